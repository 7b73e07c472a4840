//===- GraphPipeline.cpp - the graph-level pipeline -----------------------===//

#include "passes/Pipelines/Pipelines.h"

#include "dialects/kiln/Transforms/Passes.h"
#include "passes/Fusion/Passes.h"
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
  pm.addNestedPass<func::FuncOp>(createKilnRefineShapes());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (options.fusion) {
    KilnFuseOptions fuse;
    fuse.report = options.fusionReport;
    pm.addNestedPass<func::FuncOp>(createKilnFuse(fuse));
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
  if (options.quantizeBits) {
    KilnQuantizeWeightsOptions quantize;
    quantize.bits = options.quantizeBits;
    quantize.groupSize = options.quantizeGroupSize;
    quantize.float8 = options.quantizeFloat8;
    quantize.report = options.fusionReport;
    pm.addNestedPass<func::FuncOp>(createKilnQuantizeWeights(quantize));
  }
  // Last: dynamic dims that may broadcast at run time (after fusion, which
  // matches the graph as exported).
  pm.addNestedPass<func::FuncOp>(createKilnExplicitBroadcasts());
  if (options.maxContext > 0) {
    KilnSessionStateOptions state;
    state.maxContext = options.maxContext;
    pm.addNestedPass<func::FuncOp>(createKilnSessionState(state));
  }
}

void kiln::registerPipelines() {
  PassPipelineRegistration<GraphPipelineOptions>(
      "kiln-graph-pipeline",
      "Graph-level passes: specialize inputs, resolve sequences, infer shapes, "
      "canonicalize, CSE, fuse, quantize weights (when asked)",
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
