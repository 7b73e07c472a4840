//===- KilnEnums.td - enums used by kiln ops ---------------*- tablegen -*-===//

#ifndef KILN_ENUMS_TD
#define KILN_ENUMS_TD

include "dialects/kiln/IR/KilnBase.td"
include "mlir/IR/EnumAttr.td"

class Kiln_I32Enum<string name, string summary, list<I32EnumAttrCase> cases>
    : I32EnumAttr<name, summary, cases> {
  let cppNamespace = "::kiln";
  let genSpecializedAttr = 0;
}

// Enums printed as a bare keyword right after the op name
// (`kiln.unary exp %x`), like arith.cmpi's predicate.
class Kiln_KeywordEnum<string name, string summary, list<I32EnumAttrCase> cases>
    : I32EnumAttr<name, summary, cases> {
  let cppNamespace = "::kiln";
}

// Enums that appear in attribute dictionaries print as #kiln<mnemonic value>.
class Kiln_EnumAttr<EnumAttrInfo info, string mnemonic>
    : EnumAttr<Kiln_Dialect, info, mnemonic> {
  let assemblyFormat = "$value";
}

def Kiln_UnaryKind : Kiln_KeywordEnum<"UnaryKind", "elementwise unary function", [
  I32EnumAttrCase<"abs", 0>, I32EnumAttrCase<"neg", 1>,
  I32EnumAttrCase<"exp", 2>, I32EnumAttrCase<"log", 3>,
  I32EnumAttrCase<"sqrt", 4>, I32EnumAttrCase<"rsqrt", 5>,
  I32EnumAttrCase<"reciprocal", 6>, I32EnumAttrCase<"sin", 7>,
  I32EnumAttrCase<"cos", 8>, I32EnumAttrCase<"tan", 9>,
  I32EnumAttrCase<"tanh", 10>, I32EnumAttrCase<"sigmoid", 11>,
  I32EnumAttrCase<"relu", 12>, I32EnumAttrCase<"silu", 13>,
  I32EnumAttrCase<"gelu", 14>, I32EnumAttrCase<"gelu_tanh", 15>,
  I32EnumAttrCase<"erf", 16>, I32EnumAttrCase<"floor", 17>,
  I32EnumAttrCase<"ceil", 18>, I32EnumAttrCase<"round", 19>,
  I32EnumAttrCase<"sign", 20>, I32EnumAttrCase<"Not", 21, "not">,
  I32EnumAttrCase<"softplus", 22>, I32EnumAttrCase<"softsign", 23>,
  I32EnumAttrCase<"asin", 24>, I32EnumAttrCase<"acos", 25>,
  I32EnumAttrCase<"atan", 26>, I32EnumAttrCase<"sinh", 27>,
  I32EnumAttrCase<"cosh", 28>, I32EnumAttrCase<"asinh", 29>,
  I32EnumAttrCase<"acosh", 30>, I32EnumAttrCase<"atanh", 31>,
  I32EnumAttrCase<"hard_swish", 32>, I32EnumAttrCase<"mish", 33>,
  I32EnumAttrCase<"bitwise_not", 34>, I32EnumAttrCase<"is_nan", 35>,
  I32EnumAttrCase<"is_inf", 36>
]>;

def Kiln_BinaryKind : Kiln_KeywordEnum<"BinaryKind", "elementwise binary function", [
  I32EnumAttrCase<"add", 0>, I32EnumAttrCase<"sub", 1>,
  I32EnumAttrCase<"mul", 2>, I32EnumAttrCase<"div", 3>,
  I32EnumAttrCase<"pow", 4>, I32EnumAttrCase<"max", 5>,
  I32EnumAttrCase<"min", 6>, I32EnumAttrCase<"mod", 7>,
  I32EnumAttrCase<"fmod", 8>, I32EnumAttrCase<"And", 9, "and">,
  I32EnumAttrCase<"Or", 10, "or">, I32EnumAttrCase<"Xor", 11, "xor">,
  I32EnumAttrCase<"shl", 12>, I32EnumAttrCase<"shr", 13>,
  I32EnumAttrCase<"bitwise_and", 14>, I32EnumAttrCase<"bitwise_or", 15>,
  I32EnumAttrCase<"bitwise_xor", 16>
]>;

def Kiln_CompareKind : Kiln_KeywordEnum<"CompareKind", "elementwise comparison", [
  I32EnumAttrCase<"eq", 0>, I32EnumAttrCase<"ne", 1>,
  I32EnumAttrCase<"lt", 2>, I32EnumAttrCase<"le", 3>,
  I32EnumAttrCase<"gt", 4>, I32EnumAttrCase<"ge", 5>
]>;

def Kiln_ReduceKind : Kiln_KeywordEnum<"ReduceKind", "reduction", [
  I32EnumAttrCase<"sum", 0>, I32EnumAttrCase<"mean", 1>,
  I32EnumAttrCase<"max", 2>, I32EnumAttrCase<"min", 3>,
  I32EnumAttrCase<"prod", 4>, I32EnumAttrCase<"l1", 5>,
  I32EnumAttrCase<"l2", 6>, I32EnumAttrCase<"log_sum", 7>,
  I32EnumAttrCase<"log_sum_exp", 8>, I32EnumAttrCase<"sum_square", 9>
]>;

def Kiln_ArgKind : Kiln_KeywordEnum<"ArgKind", "arg reduction", [
  I32EnumAttrCase<"argmax", 0>, I32EnumAttrCase<"argmin", 1>
]>;

def Kiln_Activation : Kiln_I32Enum<"Activation", "gate activation", [
  I32EnumAttrCase<"silu", 0>, I32EnumAttrCase<"gelu", 1>,
  I32EnumAttrCase<"gelu_tanh", 2>, I32EnumAttrCase<"relu", 3>
]>;
def Kiln_ActivationAttr : Kiln_EnumAttr<Kiln_Activation, "activation">;

def Kiln_ScoreFunc : Kiln_I32Enum<"ScoreFunc", "MoE router score function", [
  I32EnumAttrCase<"softmax", 0>, I32EnumAttrCase<"sigmoid", 1>
]>;
def Kiln_ScoreFuncAttr : Kiln_EnumAttr<Kiln_ScoreFunc, "score_func">;

def Kiln_PoolKind : Kiln_KeywordEnum<"PoolKind", "pooling function", [
  I32EnumAttrCase<"max", 0>, I32EnumAttrCase<"avg", 1>, I32EnumAttrCase<"lp", 2>
]>;

def Kiln_ScatterReduction : Kiln_I32Enum<"ScatterReduction",
    "how scattered updates combine with the data", [
  I32EnumAttrCase<"none", 0>, I32EnumAttrCase<"add", 1>,
  I32EnumAttrCase<"mul", 2>, I32EnumAttrCase<"max", 3>, I32EnumAttrCase<"min", 4>
]>;
def Kiln_ScatterReductionAttr : Kiln_EnumAttr<Kiln_ScatterReduction, "reduction">;

def Kiln_PadMode : Kiln_I32Enum<"PadMode", "padding mode", [
  I32EnumAttrCase<"constant", 0>, I32EnumAttrCase<"reflect", 1>,
  I32EnumAttrCase<"edge", 2>, I32EnumAttrCase<"wrap", 3>
]>;
def Kiln_PadModeAttr : Kiln_EnumAttr<Kiln_PadMode, "pad_mode">;

def Kiln_ResizeMode : Kiln_I32Enum<"ResizeMode", "interpolation", [
  I32EnumAttrCase<"nearest", 0>, I32EnumAttrCase<"linear", 1>,
  I32EnumAttrCase<"cubic", 2>
]>;
def Kiln_ResizeModeAttr : Kiln_EnumAttr<Kiln_ResizeMode, "resize_mode">;

def Kiln_RandomDist : Kiln_KeywordEnum<"RandomDist", "random distribution", [
  I32EnumAttrCase<"uniform", 0>, I32EnumAttrCase<"normal", 1>
]>;

def Kiln_RnnKind : Kiln_KeywordEnum<"RnnKind", "recurrent cell", [
  I32EnumAttrCase<"rnn", 0>, I32EnumAttrCase<"gru", 1>, I32EnumAttrCase<"lstm", 2>
]>;

def Kiln_RnnDirection : Kiln_I32Enum<"RnnDirection", "recurrence direction", [
  I32EnumAttrCase<"forward", 0>, I32EnumAttrCase<"reverse", 1>,
  I32EnumAttrCase<"bidirectional", 2>
]>;
def Kiln_RnnDirectionAttr : Kiln_EnumAttr<Kiln_RnnDirection, "direction">;

def Kiln_GridPadding : Kiln_I32Enum<"GridPadding", "sampling outside the grid", [
  I32EnumAttrCase<"zeros", 0>, I32EnumAttrCase<"border", 1>,
  I32EnumAttrCase<"reflection", 2>
]>;
def Kiln_GridPaddingAttr : Kiln_EnumAttr<Kiln_GridPadding, "grid_padding">;

def Kiln_TfIdfMode : Kiln_I32Enum<"TfIdfMode", "n-gram weighting", [
  I32EnumAttrCase<"tf", 0>, I32EnumAttrCase<"idf", 1>, I32EnumAttrCase<"tfidf", 2>
]>;
def Kiln_TfIdfModeAttr : Kiln_EnumAttr<Kiln_TfIdfMode, "tfidf_mode">;

#endif // KILN_ENUMS_TD
