//===- GraphPipeline.cpp - the graph-level pipeline -----------------------===//

#include "passes/Pipelines/Pipelines.h"

#include "dialects/kiln/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void kiln::buildGraphPipeline(OpPassManager &pm,
                              const GraphPipelineOptions &options) {
  if (!options.inputShapes.empty()) {
    KilnSpecializeShapesOptions spec;
    spec.inputShapes.assign(options.inputShapes.begin(),
                            options.inputShapes.end());
    pm.addPass(createKilnSpecializeShapes(spec));
  }
  pm.addNestedPass<func::FuncOp>(createKilnResolveSequences());
  pm.addNestedPass<func::FuncOp>(createKilnInferShapes());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void kiln::registerPipelines() {
  PassPipelineRegistration<GraphPipelineOptions>(
      "kiln-graph-pipeline",
      "Graph-level cleanup: specialize inputs, infer shapes, canonicalize, CSE",
      buildGraphPipeline);
  PassPipelineRegistration<>(
      "kiln-cpu-lowering-pipeline",
      "Lower kiln tensor ops to the LLVM dialect for the CPU (linalg, "
      "bufferization, loops)",
      [](OpPassManager &pm) {
        if (failed(buildCpuLoweringPipeline(pm)))
          llvm::report_fatal_error("kiln-cpu-lowering-pipeline does not parse");
      });
}
