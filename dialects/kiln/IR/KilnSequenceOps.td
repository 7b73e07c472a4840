//===- KilnSequenceOps.td - sequences, optionals, strings --*- tablegen -*-===//
//
// Ops on `!kiln.seq` and `!kiln.optional` values (ONNX Sequence* and
// Optional* ops) and on string tensors. Result types are explicit: a
// sequence's element shape is what the frontend knows, and refining it is
// the result type's job. Included from KilnOps.td.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_SEQUENCE_OPS_TD
#define KILN_SEQUENCE_OPS_TD

// A position in a sequence: a scalar (or one-element) integer tensor.
def Kiln_Position : RankedTensorOf<[I32, I64]>;

class Kiln_SeqOp<string mnemonic, list<Trait> traits = []>
    : Kiln_Op<mnemonic, !listconcat(traits, [Pure])> {
  let hasVerifier = 1;
}

def Kiln_SeqConstructOp : Kiln_SeqOp<"seq_construct"> {
  let summary = "a sequence of the given tensors";
  let arguments = (ins Variadic<Kiln_Tensor>:$elements);
  let results = (outs Kiln_SequenceType:$result);
  let assemblyFormat = "$elements attr-dict `:` type($elements) `->` qualified(type($result))";
}

def Kiln_SeqEmptyOp : Kiln_Op<"seq_empty", [Pure]> {
  let summary = "an empty sequence";
  let results = (outs Kiln_SequenceType:$result);
  let assemblyFormat = "attr-dict `:` qualified(type($result))";
}

def Kiln_SeqInsertOp : Kiln_SeqOp<"seq_insert"> {
  let summary = "the sequence with a tensor inserted at `position`";
  let description = [{
    Without `position` the tensor is appended; negative positions count from
    the end. An out-of-range position is a run-time error.
  }];
  let arguments = (ins Kiln_SequenceType:$sequence, Kiln_Tensor:$element,
                       Optional<Kiln_Position>:$position);
  let results = (outs Kiln_SequenceType:$result);
  let assemblyFormat = [{
    $sequence `,` $element (`at` $position^ `:` type($position))? attr-dict `:`
    qualified(type($sequence)) `,` type($element) `->` qualified(type($result))
  }];
}

def Kiln_SeqEraseOp : Kiln_SeqOp<"seq_erase"> {
  let summary = "the sequence without the tensor at `position` (the last by default)";
  let arguments = (ins Kiln_SequenceType:$sequence, Optional<Kiln_Position>:$position);
  let results = (outs Kiln_SequenceType:$result);
  let assemblyFormat = [{
    $sequence (`at` $position^ `:` type($position))? attr-dict `:`
    qualified(type($sequence)) `->` qualified(type($result))
  }];
}

def Kiln_SeqAtOp : Kiln_SeqOp<"seq_at"> {
  let summary = "the tensor at `position`";
  let arguments = (ins Kiln_SequenceType:$sequence, Kiln_Position:$position);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = [{
    $sequence `[` $position `:` type($position) `]` attr-dict `:`
    qualified(type($sequence)) `->` type($result)
  }];
}

def Kiln_SeqLengthOp : Kiln_SeqOp<"seq_length"> {
  let summary = "the number of tensors in a sequence";
  let arguments = (ins Kiln_SequenceType:$sequence);
  let results = (outs 0DTensorOf<[I64]>:$length);
  let assemblyFormat = "$sequence attr-dict `:` qualified(type($sequence)) `->` type($length)";
}

def Kiln_SplitToSeqOp : Kiln_SeqOp<"split_to_seq"> {
  let summary = "split a tensor along `axis` into a sequence";
  let description = [{
    Without `split`, into pieces of extent 1 (dropped unless `keepdims`);
    with a scalar `split`, into pieces of that extent (the last may be
    shorter); with a 1-D `split`, into pieces of the listed extents.
  }];
  let arguments = (ins Kiln_Tensor:$input, Optional<Kiln_Position>:$split,
                       I64Attr:$axis, DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs Kiln_SequenceType:$result);
  let assemblyFormat = [{
    $input (`split` $split^ `:` type($split))? attr-dict `:` type($input) `->` qualified(type($result))
  }];
}

def Kiln_ConcatFromSeqOp : Kiln_SeqOp<"concat_from_seq"> {
  let summary = "concatenate (or, with `new_axis`, stack) a sequence's tensors";
  let arguments = (ins Kiln_SequenceType:$sequence, I64Attr:$axis, UnitAttr:$new_axis);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "$sequence attr-dict `:` qualified(type($sequence)) `->` type($result)";
}

def Kiln_OptionalWrapOp : Kiln_SeqOp<"optional_wrap"> {
  let summary = "an optional holding `value`, or an empty one without it";
  let arguments = (ins Optional<AnyType>:$value);
  let results = (outs Kiln_OptionalType:$result);
  let assemblyFormat = "($value^ `:` type($value))? attr-dict `->` qualified(type($result))";
}

def Kiln_OptionalHasOp : Kiln_SeqOp<"optional_has"> {
  let summary = "whether an optional holds a value";
  let arguments = (ins Kiln_OptionalType:$optional);
  let results = (outs 0DTensorOf<[I1]>:$result);
  let assemblyFormat = "$optional attr-dict `:` qualified(type($optional)) `->` type($result)";
  let builders = [OpBuilder<(ins "::mlir::Value":$optional), [{
    build($_builder, $_state,
          ::mlir::RankedTensorType::get({}, $_builder.getI1Type()), optional);
  }]>];
}

def Kiln_OptionalGetOp : Kiln_SeqOp<"optional_get"> {
  let summary = "the value of an optional (a run-time error when empty)";
  let arguments = (ins Kiln_OptionalType:$optional);
  let results = (outs AnyType:$result);
  let assemblyFormat = "$optional attr-dict `:` qualified(type($optional)) `->` type($result)";
}

def Kiln_StringNormalizeOp : Kiln_SeqOp<"string_normalize"> {
  let summary = "remove stop words and change case (ONNX StringNormalizer)";
  let description = [{
    `input`: `[C]` or `[1, C]` strings. Drops the strings equal to a
    `stopwords` entry (ignoring case unless `case_sensitive`), then maps
    the rest to `case_change` (`LOWER`, `UPPER` or `NONE`) under `locale`.
    When every string is dropped the result holds one empty string.
  }];
  let arguments = (ins RankedTensorOf<[Kiln_StringType]>:$input,
                       StrAttr:$case_change, UnitAttr:$case_sensitive,
                       DefaultValuedAttr<StrArrayAttr, "{}">:$stopwords,
                       DefaultValuedAttr<StrAttr, "\"\"">:$locale);
  let results = (outs RankedTensorOf<[Kiln_StringType]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

#endif // KILN_SEQUENCE_OPS_TD
