//===- TensorBuffers.h - fused kernels between tensors and buffers -*- C++ -*-===//
//
// The CPU target's fused kernels rewrite kiln ops on tensors, before
// bufferization, into loops on buffers: operands are read through
// `bufferization.to_buffer read_only` and the kernel's output buffer goes
// back as `to_tensor restrict writable`, which one-shot bufferization takes
// as it is.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TARGETS_CPU_TENSORBUFFERS_H
#define KILN_TARGETS_CPU_TENSORBUFFERS_H

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"

namespace kiln::cpu {

/// The buffer of a tensor the kernel only reads.
inline mlir::Value readOnlyBuffer(mlir::OpBuilder &b, mlir::Location loc, mlir::Value tensor) {
  auto type = mlir::cast<mlir::RankedTensorType>(tensor.getType());
  auto toBuffer = mlir::bufferization::ToBufferOp::create(
      b, loc, mlir::MemRefType::get(type.getShape(), type.getElementType()), tensor);
  toBuffer.setReadOnly(true);
  return toBuffer;
}

/// The kernel's freshly allocated output buffer as a tensor of `type`.
inline mlir::Value resultTensor(mlir::OpBuilder &b, mlir::Location loc,
                                mlir::RankedTensorType type, mlir::Value buffer) {
  auto toTensor = mlir::bufferization::ToTensorOp::create(b, loc, type, buffer);
  toTensor.setRestrict(true);
  toTensor.setWritable(true);
  return toTensor;
}

} // namespace kiln::cpu

#endif // KILN_TARGETS_CPU_TENSORBUFFERS_H
