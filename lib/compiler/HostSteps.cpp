//===- HostSteps.cpp - string ops taken out of @main for the runtime ------===//

#include "lib/compiler/HostSteps.h"

#include "dialects/kiln/IR/KilnOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;

namespace kiln::compiler {

static bool isStringTensor(Type t) {
  auto tensor = dyn_cast<TensorType>(t);
  return tensor && isa<StringType>(tensor.getElementType());
}

static bool touchesStrings(Operation *op) {
  return llvm::any_of(op->getOperandTypes(), isStringTensor) ||
         llvm::any_of(op->getResultTypes(), isStringTensor);
}

/// The node name an imported op carries in its location, if any.
static std::string nodeName(Location loc) {
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location l : fused.getLocations())
      if (std::string n = nodeName(l); !n.empty())
        return n;
  if (auto named = dyn_cast<NameLoc>(loc))
    return named.getName().str();
  return "";
}

LogicalResult extractHostSteps(func::FuncOp main, HostPlan &plan) {
  Block &body = main.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  llvm::DenseMap<Value, HostStep::Ref> refs;
  for (BlockArgument arg : main.getArguments())
    refs[arg] = {HostStep::Ref::Input, arg.getArgNumber()};

  SmallVector<Operation *> hostOps;
  for (Operation &op : body.without_terminator()) {
    if (!touchesStrings(&op))
      continue;
    if (!isa<StringNormalizeOp, CastOp>(op))
      return op.emitError("'") << op.getName()
                               << "' on strings: the runtime has no host implementation of "
                                  "it yet (supported: kiln.string_normalize, kiln.cast)";
    HostStep step;
    step.op = op.getName().getStringRef().str();
    step.attributes = op.getAttrDictionary();
    step.name = nodeName(op.getLoc());
    for (Type t : op.getResultTypes())
      step.resultElementTypes.push_back(cast<TensorType>(t).getElementType());
    for (Value v : op.getOperands()) {
      // Strings from inputs or earlier steps; numbers (a cast to strings)
      // from model inputs only.
      auto it = refs.find(v);
      if (it == refs.end() || (!isStringTensor(v.getType()) && !isa<BlockArgument>(v)))
        return op.emitError("'") << op.getName()
                                 << "' reads a value computed by generated code; host "
                                    "steps run before the kernels and read only inputs "
                                    "and other host steps' results";
      step.inputs.push_back(it->second);
    }
    for (Value r : op.getResults()) {
      // Returned: the step writes the model output (later steps read it
      // there); otherwise a host value.
      HostStep::Ref ref{HostStep::Ref::Value, plan.values};
      for (OpOperand &use : r.getUses()) {
        Operation *user = use.getOwner();
        if (user == ret) {
          if (ref.kind == HostStep::Ref::Output)
            return op.emitError("'") << op.getName()
                                     << "': one string result returned as two outputs is "
                                        "not supported";
          ref = {HostStep::Ref::Output, use.getOperandNumber()};
        } else if (!isStringTensor(r.getType())) {
          return op.emitError("'")
                 << op.getName() << "' makes numbers from strings that '" << user->getName()
                 << "' reads; host steps run before the kernels, so such numbers can only be "
                    "model outputs so far";
        } else if (!touchesStrings(user)) {
          return user->emitError("'") << user->getName()
                                      << "' reads strings, which generated code cannot";
        }
      }
      if (ref.kind == HostStep::Ref::Value && !isStringTensor(r.getType()))
        return op.emitError("'") << op.getName()
                                 << "': numbers made from strings can only be model outputs "
                                    "so far (host values hold strings)";
      if (ref.kind == HostStep::Ref::Value)
        ++plan.values;
      refs[r] = ref;
      step.outputs.push_back(ref);
    }
    hostOps.push_back(&op);
    plan.steps.push_back(std::move(step));
  }

  // A string input returned as it is would need a copy step.
  for (BlockArgument arg : main.getArguments())
    if (isStringTensor(arg.getType()) && llvm::any_of(arg.getUsers(), [&](Operation *u) {
          return u == ret;
        }))
      return main.emitError("string input ")
             << arg.getArgNumber()
             << " is returned unchanged as an output; a string output must come from a "
                "string op";
  // Outputs the host steps write leave @main; string inputs too (numbers
  // a host cast reads stay: kernels may read them as well).
  llvm::SmallPtrSet<Operation *, 8> hostSet(hostOps.begin(), hostOps.end());
  auto hostMade = [&](Value v) { return v.getDefiningOp() && hostSet.count(v.getDefiningOp()); };
  for (unsigned i = 0; i < ret.getNumOperands(); ++i)
    if (!hostMade(ret.getOperand(i)))
      plan.kernelOutputs.push_back(i);
  for (unsigned i = 0; i < main.getNumArguments(); ++i)
    if (!isStringTensor(main.getArgument(i).getType()))
      plan.kernelInputs.push_back(i);
  if (plan.steps.empty())
    return success();

  llvm::BitVector dropResults(ret.getNumOperands()), dropArgs(main.getNumArguments());
  for (unsigned i = 0; i < ret.getNumOperands(); ++i)
    dropResults[i] = hostMade(ret.getOperand(i));
  ret->eraseOperands(dropResults);
  for (Operation *op : llvm::reverse(hostOps))
    op->erase();
  for (unsigned i = 0; i < main.getNumArguments(); ++i)
    dropArgs[i] = isStringTensor(main.getArgument(i).getType());
  if (failed(main.eraseResults(dropResults)) || failed(main.eraseArguments(dropArgs)))
    return main.emitError("cannot remove the string inputs and outputs from @main");
  return success();
}

} // namespace kiln::compiler
