//===- SpecializeShapes.cpp - fix dynamic input dims (--input-shape) ------===//

#include "dialects/kiln/IR/KilnOps.h"
#include "dialects/kiln/Transforms/Passes.h"
#include "lib/support/ShapeSpec.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

namespace kiln {
#define GEN_PASS_DEF_KILNSPECIALIZESHAPES
#include "dialects/kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {
struct KilnSpecializeShapesPass
    : kiln::impl::KilnSpecializeShapesBase<KilnSpecializeShapesPass> {
  using Base::Base;

  /// Parses "NAME=2x32x128" entries into name -> dims.
  LogicalResult parseSpecs(llvm::StringMap<SmallVector<int64_t>> &specs) {
    for (const std::string &entry : inputShapes) {
      std::string name, error;
      SmallVector<int64_t> shape;
      if (!parseShapeSpec(entry, name, shape, error))
        return getOperation().emitError(error);
      specs[name] = shape;
    }
    return success();
  }

  void runOnOperation() override {
    llvm::StringMap<SmallVector<int64_t>> specs;
    if (failed(parseSpecs(specs)))
      return signalPassFailure();
    llvm::StringSet<> used;
    std::string available;
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      SmallVector<Type> inputs(func.getArgumentTypes());
      for (auto [i, arg] : llvm::enumerate(func.getArguments())) {
        std::string name = "arg" + std::to_string(i);
        if (auto attr = func.getArgAttrOfType<StringAttr>(i, "kiln.name"))
          name = attr.str();
        available += (available.empty() ? "" : ", ") + name;
        auto it = specs.find(name);
        if (it == specs.end())
          continue;
        used.insert(name);
        auto type = dyn_cast<RankedTensorType>(arg.getType());
        ArrayRef<int64_t> want = it->second;
        if (!type || type.getRank() != (int64_t)want.size()) {
          func.emitError("input '") << name << "' has type " << arg.getType()
                                    << " but --input-shape gives "
                                    << want.size() << " dimensions";
          return signalPassFailure();
        }
        for (auto [have, w] : llvm::zip(type.getShape(), want))
          if (!ShapedType::isDynamic(have) && have != w) {
            func.emitError("input '")
                << name << "' has static type " << type
                << "; --input-shape may only fix dynamic dimensions";
            return signalPassFailure();
          }
        auto newType = RankedTensorType::get(want, type.getElementType());
        arg.setType(newType);
        inputs[i] = newType;
      }
      func.setType(FunctionType::get(&getContext(), inputs,
                                     func.getResultTypes()));
      if (failed(inferShapes(func)))
        return signalPassFailure();
    }
    for (auto &spec : specs)
      if (!used.contains(spec.getKey())) {
        getOperation().emitError("--input-shape names unknown input '")
            << spec.getKey() << "'; inputs are: " << available;
        return signalPassFailure();
      }
  }
};
} // namespace
