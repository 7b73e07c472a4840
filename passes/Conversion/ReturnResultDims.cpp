//===- ReturnResultDims.cpp - dynamic result dims as index results --------===//
//
// See Passes.td. The sizes are resolved on tensors, where every linalg and
// tensor op can say how its result's dims follow from its operands'.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln {
#define GEN_PASS_DEF_KILNRETURNRESULTDIMS
#include "passes/Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {
struct KilnReturnResultDimsPass
    : kiln::impl::KilnReturnResultDimsBase<KilnReturnResultDimsPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (fn.getName() != "main" || fn.getBlocks().size() != 1)
      return;
    auto ret = cast<func::ReturnOp>(fn.front().getTerminator());
    MLIRContext *ctx = fn.getContext();
    OpBuilder b(ret);
    SmallVector<Operation *> dims;
    // Which dims each tensor result returns: later passes may make a type
    // more static, and the sizes must still pair with their output.
    SmallVector<Attribute> which;
    for (Value v : ret.getOperands()) {
      auto t = dyn_cast<RankedTensorType>(v.getType());
      if (!t)
        continue;
      SmallVector<int64_t> list;
      for (int64_t d = 0; d < t.getRank(); ++d)
        if (t.isDynamicDim(d)) {
          dims.push_back(tensor::DimOp::create(b, ret.getLoc(), v, d));
          list.push_back(d);
        }
      which.push_back(b.getDenseI64ArrayAttr(list));
    }
    if (dims.empty())
      return;
    fn->setAttr("kiln.result_dims", b.getArrayAttr(which));
    // Held by the return, so resolving cannot lose them.
    SmallVector<Value> operands(ret.getOperands());
    for (Operation *d : dims)
      operands.push_back(d->getResult(0));
    ret->setOperands(operands);
    RewritePatternSet patterns(ctx);
    memref::populateResolveRankedShapedTypeResultDimsPatterns(patterns);
    tensor::DimOp::getCanonicalizationPatterns(patterns, ctx);
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
    (void)applyOpPatternsGreedily(dims, std::move(patterns), config);
    SmallVector<DictionaryAttr> attrs;
    fn.getAllResultAttrs(attrs);
    attrs.append(dims.size(), DictionaryAttr::get(ctx));
    SmallVector<Type> results(fn.getResultTypes());
    results.append(dims.size(), b.getIndexType());
    fn.setType(FunctionType::get(ctx, fn.getArgumentTypes(), results));
    fn.setAllResultAttrs(attrs);
  }
};
} // namespace
