// RUN: kiln-opt %s -split-input-file --kiln-fuse | FileCheck %s

// Hugging Face's sparse Mixtral loop as torch exports it (2 experts, top-1,
// 4 tokens): one_hot(idx).permute(2, 1, 0) as Where/Transpose, each
// expert's (slot, token) pairs from NonZero, the expert on the gathered
// rows, weighted by w.view(-1)[token * k + slot], index_add_ as
// ScatterElements into zeros summed. The data-dependent shapes are gone.
// CHECK-LABEL: func.func @sparse_mixtral
// CHECK: kiln.moe %{{.*}} router(%arg1 : tensor<8x2xf32>) experts({{.*}} : tensor<2x8x8xf32>, tensor<2x8x8xf32>, tensor<2x8x8xf32>) {normalize, top_k = 1 : i64} : tensor<4x8xf32>
// CHECK-NOT: kiln.nonzero
// CHECK-NOT: kiln.scatter_elements
func.func @sparse_mixtral(%x: tensor<1x4x8xf32>, %r: tensor<8x2xf32>, %g0: tensor<8x8xf32>, %u0: tensor<8x8xf32>, %d0: tensor<8x8xf32>, %g1: tensor<8x8xf32>, %u1: tensor<8x8xf32>, %d1: tensor<8x8xf32>) -> tensor<1x4x8xf32> {
  %cst_6 = arith.constant dense<0> : tensor<i64>
  %cst_7 = arith.constant dense<1> : tensor<i64>
  %0 = kiln.reshape %x : tensor<1x4x8xf32> -> tensor<4x8xf32>
  %1 = kiln.matmul %0, %r : tensor<4x8xf32>, tensor<8x2xf32>
  %2 = kiln.softmax %1 axis = 1 : tensor<4x2xf32>
  %values, %indices = kiln.topk %2 k = 1 axis = -1 : tensor<4x2xf32>
  %3 = kiln.reduce sum %values axes = [-1] keepdims : tensor<4x1xf32>
  %4 = kiln.binary div %values, %3 : tensor<4x1xf32>, tensor<4x1xf32>
  %cst_8 = arith.constant dense<2> : tensor<i64>
  %cst_9 = arith.constant dense<0> : tensor<i64>
  %5 = kiln.compare lt %indices, %cst_9 : tensor<4x1xi64>, tensor<i64>
  %6 = kiln.binary add %indices, %cst_8 : tensor<4x1xi64>, tensor<i64>
  %7 = kiln.where %5, %6, %indices : tensor<4x1xi1>, tensor<4x1xi64>, tensor<4x1xi64>
  %8 = kiln.reshape %7 : tensor<4x1xi64> -> tensor<4x1x1xi64>
  %cst_10 = arith.constant dense<[[[0, 1]]]> : tensor<1x1x2xi64>
  %9 = kiln.compare eq %8, %cst_10 : tensor<4x1x1xi64>, tensor<1x1x2xi64>
  %cst_11 = arith.constant dense<1> : tensor<i64>
  %cst_12 = arith.constant dense<0> : tensor<i64>
  %10 = kiln.where %9, %cst_11, %cst_12 : tensor<4x1x2xi1>, tensor<i64>, tensor<i64>
  %11 = kiln.transpose %10 perm = [2, 1, 0] : tensor<4x1x2xi64>
  %12 = kiln.gather %11[%cst_6] axis = 0 : tensor<2x1x4xi64>, tensor<i64>
  %13 = kiln.cast %12 : tensor<1x4xi64> to tensor<1x4xi1>
  %14 = kiln.nonzero %13 : tensor<1x4xi1>
  %15 = kiln.transpose %14 perm = [1, 0] : tensor<2x?xi64>
  %16 = kiln.slice %15 starts = [0, 0] ends = [9223372036854775807, 1] steps = [1, 1] : tensor<?x2xi64>
  %17 = kiln.slice %15 starts = [0, 1] ends = [9223372036854775807, 2] steps = [1, 1] : tensor<?x2xi64>
  %18 = kiln.reshape %16 : tensor<?x1xi64> -> tensor<?xi64>
  %19 = kiln.reshape %17 : tensor<?x1xi64> -> tensor<?xi64>
  %20 = kiln.reshape %0 : tensor<4x8xf32> -> tensor<1x4x8xf32>
  %21 = kiln.gather %20[%19] axis = 1 : tensor<1x4x8xf32>, tensor<?xi64>
  %22 = kiln.reshape %21 : tensor<1x?x8xf32> -> tensor<?x8xf32>
  %23 = kiln.matmul %22, %g0 : tensor<?x8xf32>, tensor<8x8xf32>
  %24 = kiln.unary sigmoid %23 : tensor<?x8xf32>
  %25 = kiln.binary mul %23, %24 : tensor<?x8xf32>, tensor<?x8xf32>
  %26 = kiln.matmul %22, %u0 : tensor<?x8xf32>, tensor<8x8xf32>
  %27 = kiln.binary mul %25, %26 : tensor<?x8xf32>, tensor<?x8xf32>
  %28 = kiln.matmul %27, %d0 : tensor<?x8xf32>, tensor<8x8xf32>
  %29 = kiln.reshape %4 : tensor<4x1xf32> -> tensor<4x1x1xf32>
  %cst_13 = arith.constant dense<1> : tensor<1xi64>
  %30 = kiln.reshape %29 : tensor<4x1x1xf32> -> tensor<4x1xf32>
  %31 = kiln.binary add %18, %19 : tensor<?xi64>, tensor<?xi64>
  %32 = kiln.gather %30[%31] axis = 0 : tensor<4x1xf32>, tensor<?xi64>
  %33 = kiln.shape %31 : tensor<?xi64>
  %34 = kiln.reshape %32 : tensor<?x1xf32> -> tensor<?x1xf32>
  %35 = kiln.concat %33, %cst_13 axis = 0 : tensor<1xi64>, tensor<1xi64>
  %36 = kiln.reshape %34 shape %35 : tensor<2xi64> : tensor<?x1xf32> -> tensor<?x1xf32>
  %37 = kiln.binary mul %28, %36 : tensor<?x8xf32>, tensor<?x1xf32>
  %38 = kiln.gather %11[%cst_7] axis = 0 : tensor<2x1x4xi64>, tensor<i64>
  %39 = kiln.cast %38 : tensor<1x4xi64> to tensor<1x4xi1>
  %40 = kiln.nonzero %39 : tensor<1x4xi1>
  %41 = kiln.transpose %40 perm = [1, 0] : tensor<2x?xi64>
  %42 = kiln.slice %41 starts = [0, 0] ends = [9223372036854775807, 1] steps = [1, 1] : tensor<?x2xi64>
  %43 = kiln.slice %41 starts = [0, 1] ends = [9223372036854775807, 2] steps = [1, 1] : tensor<?x2xi64>
  %44 = kiln.reshape %42 : tensor<?x1xi64> -> tensor<?xi64>
  %45 = kiln.reshape %43 : tensor<?x1xi64> -> tensor<?xi64>
  %46 = kiln.gather %20[%45] axis = 1 : tensor<1x4x8xf32>, tensor<?xi64>
  %47 = kiln.reshape %46 : tensor<1x?x8xf32> -> tensor<?x8xf32>
  %48 = kiln.matmul %47, %g1 : tensor<?x8xf32>, tensor<8x8xf32>
  %49 = kiln.unary sigmoid %48 : tensor<?x8xf32>
  %50 = kiln.binary mul %48, %49 : tensor<?x8xf32>, tensor<?x8xf32>
  %51 = kiln.matmul %47, %u1 : tensor<?x8xf32>, tensor<8x8xf32>
  %52 = kiln.binary mul %50, %51 : tensor<?x8xf32>, tensor<?x8xf32>
  %53 = kiln.matmul %52, %d1 : tensor<?x8xf32>, tensor<8x8xf32>
  %cst_14 = arith.constant dense<1> : tensor<1xi64>
  %54 = kiln.reshape %29 : tensor<4x1x1xf32> -> tensor<4x1xf32>
  %55 = kiln.binary add %44, %45 : tensor<?xi64>, tensor<?xi64>
  %56 = kiln.gather %54[%55] axis = 0 : tensor<4x1xf32>, tensor<?xi64>
  %57 = kiln.shape %55 : tensor<?xi64>
  %58 = kiln.reshape %56 : tensor<?x1xf32> -> tensor<?x1xf32>
  %59 = kiln.concat %57, %cst_14 axis = 0 : tensor<1xi64>, tensor<1xi64>
  %60 = kiln.reshape %58 shape %59 : tensor<2xi64> : tensor<?x1xf32> -> tensor<?x1xf32>
  %61 = kiln.binary mul %53, %60 : tensor<?x8xf32>, tensor<?x1xf32>
  %62 = kiln.expand %37 : tensor<?x8xf32> -> tensor<?x8xf32>
  %63 = kiln.reshape %19 : tensor<?xi64> -> tensor<?x1xi64>
  %64 = kiln.shape %62 : tensor<?x8xf32>
  %65 = kiln.expand %63 shape %64 : tensor<2xi64> : tensor<?x1xi64> -> tensor<?x?xi64>
  %cst_15 = arith.constant dense<0.000000e+00> : tensor<4x8xf32>
  %66 = kiln.scatter_elements %62 into %cst_15[%65] axis = 0 : tensor<4x8xf32>, tensor<?x?xi64>, tensor<?x8xf32>
  %cst_16 = arith.constant dense<0.000000e+00> : tensor<4x8xf32>
  %67 = kiln.binary add %cst_16, %66 : tensor<4x8xf32>, tensor<4x8xf32>
  %68 = kiln.expand %61 : tensor<?x8xf32> -> tensor<?x8xf32>
  %69 = kiln.reshape %45 : tensor<?xi64> -> tensor<?x1xi64>
  %70 = kiln.shape %68 : tensor<?x8xf32>
  %71 = kiln.expand %69 shape %70 : tensor<2xi64> : tensor<?x1xi64> -> tensor<?x?xi64>
  %cst_17 = arith.constant dense<0.000000e+00> : tensor<4x8xf32>
  %72 = kiln.scatter_elements %68 into %cst_17[%71] axis = 0 : tensor<4x8xf32>, tensor<?x?xi64>, tensor<?x8xf32>
  %73 = kiln.binary add %67, %72 : tensor<4x8xf32>, tensor<4x8xf32>
  %74 = kiln.reshape %73 : tensor<4x8xf32> -> tensor<1x4x8xf32>
  return %74 : tensor<1x4x8xf32>
}

// -----

// The same loop weighting the second expert's rows by another tensor than
// the TopK's routing weights must not fuse.
// CHECK-LABEL: func.func @sparse_other_weights
// CHECK-NOT: kiln.moe
// CHECK: kiln.nonzero
func.func @sparse_other_weights(%x: tensor<1x4x8xf32>, %r: tensor<8x2xf32>, %g0: tensor<8x8xf32>, %u0: tensor<8x8xf32>, %d0: tensor<8x8xf32>, %g1: tensor<8x8xf32>, %u1: tensor<8x8xf32>, %d1: tensor<8x8xf32>, %other: tensor<4x1xf32>) -> tensor<1x4x8xf32> {
  %cst_6 = arith.constant dense<0> : tensor<i64>
  %cst_7 = arith.constant dense<1> : tensor<i64>
  %0 = kiln.reshape %x : tensor<1x4x8xf32> -> tensor<4x8xf32>
  %1 = kiln.matmul %0, %r : tensor<4x8xf32>, tensor<8x2xf32>
  %2 = kiln.softmax %1 axis = 1 : tensor<4x2xf32>
  %values, %indices = kiln.topk %2 k = 1 axis = -1 : tensor<4x2xf32>
  %3 = kiln.reduce sum %values axes = [-1] keepdims : tensor<4x1xf32>
  %4 = kiln.binary div %values, %3 : tensor<4x1xf32>, tensor<4x1xf32>
  %cst_8 = arith.constant dense<2> : tensor<i64>
  %cst_9 = arith.constant dense<0> : tensor<i64>
  %5 = kiln.compare lt %indices, %cst_9 : tensor<4x1xi64>, tensor<i64>
  %6 = kiln.binary add %indices, %cst_8 : tensor<4x1xi64>, tensor<i64>
  %7 = kiln.where %5, %6, %indices : tensor<4x1xi1>, tensor<4x1xi64>, tensor<4x1xi64>
  %8 = kiln.reshape %7 : tensor<4x1xi64> -> tensor<4x1x1xi64>
  %cst_10 = arith.constant dense<[[[0, 1]]]> : tensor<1x1x2xi64>
  %9 = kiln.compare eq %8, %cst_10 : tensor<4x1x1xi64>, tensor<1x1x2xi64>
  %cst_11 = arith.constant dense<1> : tensor<i64>
  %cst_12 = arith.constant dense<0> : tensor<i64>
  %10 = kiln.where %9, %cst_11, %cst_12 : tensor<4x1x2xi1>, tensor<i64>, tensor<i64>
  %11 = kiln.transpose %10 perm = [2, 1, 0] : tensor<4x1x2xi64>
  %12 = kiln.gather %11[%cst_6] axis = 0 : tensor<2x1x4xi64>, tensor<i64>
  %13 = kiln.cast %12 : tensor<1x4xi64> to tensor<1x4xi1>
  %14 = kiln.nonzero %13 : tensor<1x4xi1>
  %15 = kiln.transpose %14 perm = [1, 0] : tensor<2x?xi64>
  %16 = kiln.slice %15 starts = [0, 0] ends = [9223372036854775807, 1] steps = [1, 1] : tensor<?x2xi64>
  %17 = kiln.slice %15 starts = [0, 1] ends = [9223372036854775807, 2] steps = [1, 1] : tensor<?x2xi64>
  %18 = kiln.reshape %16 : tensor<?x1xi64> -> tensor<?xi64>
  %19 = kiln.reshape %17 : tensor<?x1xi64> -> tensor<?xi64>
  %20 = kiln.reshape %0 : tensor<4x8xf32> -> tensor<1x4x8xf32>
  %21 = kiln.gather %20[%19] axis = 1 : tensor<1x4x8xf32>, tensor<?xi64>
  %22 = kiln.reshape %21 : tensor<1x?x8xf32> -> tensor<?x8xf32>
  %23 = kiln.matmul %22, %g0 : tensor<?x8xf32>, tensor<8x8xf32>
  %24 = kiln.unary sigmoid %23 : tensor<?x8xf32>
  %25 = kiln.binary mul %23, %24 : tensor<?x8xf32>, tensor<?x8xf32>
  %26 = kiln.matmul %22, %u0 : tensor<?x8xf32>, tensor<8x8xf32>
  %27 = kiln.binary mul %25, %26 : tensor<?x8xf32>, tensor<?x8xf32>
  %28 = kiln.matmul %27, %d0 : tensor<?x8xf32>, tensor<8x8xf32>
  %29 = kiln.reshape %4 : tensor<4x1xf32> -> tensor<4x1x1xf32>
  %cst_13 = arith.constant dense<1> : tensor<1xi64>
  %30 = kiln.reshape %29 : tensor<4x1x1xf32> -> tensor<4x1xf32>
  %31 = kiln.binary add %18, %19 : tensor<?xi64>, tensor<?xi64>
  %32 = kiln.gather %30[%31] axis = 0 : tensor<4x1xf32>, tensor<?xi64>
  %33 = kiln.shape %31 : tensor<?xi64>
  %34 = kiln.reshape %32 : tensor<?x1xf32> -> tensor<?x1xf32>
  %35 = kiln.concat %33, %cst_13 axis = 0 : tensor<1xi64>, tensor<1xi64>
  %36 = kiln.reshape %34 shape %35 : tensor<2xi64> : tensor<?x1xf32> -> tensor<?x1xf32>
  %37 = kiln.binary mul %28, %36 : tensor<?x8xf32>, tensor<?x1xf32>
  %38 = kiln.gather %11[%cst_7] axis = 0 : tensor<2x1x4xi64>, tensor<i64>
  %39 = kiln.cast %38 : tensor<1x4xi64> to tensor<1x4xi1>
  %40 = kiln.nonzero %39 : tensor<1x4xi1>
  %41 = kiln.transpose %40 perm = [1, 0] : tensor<2x?xi64>
  %42 = kiln.slice %41 starts = [0, 0] ends = [9223372036854775807, 1] steps = [1, 1] : tensor<?x2xi64>
  %43 = kiln.slice %41 starts = [0, 1] ends = [9223372036854775807, 2] steps = [1, 1] : tensor<?x2xi64>
  %44 = kiln.reshape %42 : tensor<?x1xi64> -> tensor<?xi64>
  %45 = kiln.reshape %43 : tensor<?x1xi64> -> tensor<?xi64>
  %46 = kiln.gather %20[%45] axis = 1 : tensor<1x4x8xf32>, tensor<?xi64>
  %47 = kiln.reshape %46 : tensor<1x?x8xf32> -> tensor<?x8xf32>
  %48 = kiln.matmul %47, %g1 : tensor<?x8xf32>, tensor<8x8xf32>
  %49 = kiln.unary sigmoid %48 : tensor<?x8xf32>
  %50 = kiln.binary mul %48, %49 : tensor<?x8xf32>, tensor<?x8xf32>
  %51 = kiln.matmul %47, %u1 : tensor<?x8xf32>, tensor<8x8xf32>
  %52 = kiln.binary mul %50, %51 : tensor<?x8xf32>, tensor<?x8xf32>
  %53 = kiln.matmul %52, %d1 : tensor<?x8xf32>, tensor<8x8xf32>
  %cst_14 = arith.constant dense<1> : tensor<1xi64>
  %54 = kiln.reshape %29 : tensor<4x1x1xf32> -> tensor<4x1xf32>
  %55 = kiln.binary add %44, %45 : tensor<?xi64>, tensor<?xi64>
  %56 = kiln.gather %other[%55] axis = 0 : tensor<4x1xf32>, tensor<?xi64>
  %57 = kiln.shape %55 : tensor<?xi64>
  %58 = kiln.reshape %56 : tensor<?x1xf32> -> tensor<?x1xf32>
  %59 = kiln.concat %57, %cst_14 axis = 0 : tensor<1xi64>, tensor<1xi64>
  %60 = kiln.reshape %58 shape %59 : tensor<2xi64> : tensor<?x1xf32> -> tensor<?x1xf32>
  %61 = kiln.binary mul %53, %60 : tensor<?x8xf32>, tensor<?x1xf32>
  %62 = kiln.expand %37 : tensor<?x8xf32> -> tensor<?x8xf32>
  %63 = kiln.reshape %19 : tensor<?xi64> -> tensor<?x1xi64>
  %64 = kiln.shape %62 : tensor<?x8xf32>
  %65 = kiln.expand %63 shape %64 : tensor<2xi64> : tensor<?x1xi64> -> tensor<?x?xi64>
  %cst_15 = arith.constant dense<0.000000e+00> : tensor<4x8xf32>
  %66 = kiln.scatter_elements %62 into %cst_15[%65] axis = 0 : tensor<4x8xf32>, tensor<?x?xi64>, tensor<?x8xf32>
  %cst_16 = arith.constant dense<0.000000e+00> : tensor<4x8xf32>
  %67 = kiln.binary add %cst_16, %66 : tensor<4x8xf32>, tensor<4x8xf32>
  %68 = kiln.expand %61 : tensor<?x8xf32> -> tensor<?x8xf32>
  %69 = kiln.reshape %45 : tensor<?xi64> -> tensor<?x1xi64>
  %70 = kiln.shape %68 : tensor<?x8xf32>
  %71 = kiln.expand %69 shape %70 : tensor<2xi64> : tensor<?x1xi64> -> tensor<?x?xi64>
  %cst_17 = arith.constant dense<0.000000e+00> : tensor<4x8xf32>
  %72 = kiln.scatter_elements %68 into %cst_17[%71] axis = 0 : tensor<4x8xf32>, tensor<?x?xi64>, tensor<?x8xf32>
  %73 = kiln.binary add %67, %72 : tensor<4x8xf32>, tensor<4x8xf32>
  %74 = kiln.reshape %73 : tensor<4x8xf32> -> tensor<1x4x8xf32>
  return %74 : tensor<1x4x8xf32>
}

// -----

// The same loop as torch.export writes it (torch.onnx.export(dynamo=True)):
// one_hot as Cast(idx[..., None] == iota), NonZero on the int mask, the
// rows by GatherND of x viewed [T, 1, H], the weight by GatherND of w
// viewed [T, k, 1] at Concat(token, slot), index_add_ as a chain of
// ScatterND (reduction add) from zeros, the router a transposed weight.
// CHECK-LABEL: func.func @sparse_torch_export
// CHECK: kiln.moe %{{.*}} router(%{{.*}} : tensor<8x2xf32>) experts({{.*}} : tensor<2x8x8xf32>, tensor<2x8x8xf32>, tensor<2x8x8xf32>) {normalize, top_k = 1 : i64} : tensor<4x8xf32>
// CHECK-NOT: kiln.nonzero
// CHECK-NOT: kiln.scatter_nd
func.func @sparse_torch_export(%x: tensor<1x4x8xf32>, %r: tensor<2x8xf32>, %g0: tensor<8x8xf32>, %u0: tensor<8x8xf32>, %d0: tensor<8x8xf32>, %g1: tensor<8x8xf32>, %u1: tensor<8x8xf32>, %d1: tensor<8x8xf32>) -> tensor<1x4x8xf32> {
  %c0 = arith.constant dense<0> : tensor<i64>
  %c1 = arith.constant dense<1> : tensor<i64>
  %iota = arith.constant dense<[0, 1]> : tensor<2xi64>
  %zeros = arith.constant dense<0.000000e+00> : tensor<4x8xf32>
  %x2 = kiln.reshape %x : tensor<1x4x8xf32> -> tensor<4x8xf32>
  %rT = kiln.transpose %r perm = [1, 0] : tensor<2x8xf32>
  %logits = kiln.matmul %x2, %rT : tensor<4x8xf32>, tensor<8x2xf32>
  %probs = kiln.softmax %logits axis = 1 : tensor<4x2xf32>
  %values, %indices = kiln.topk %probs k = 1 axis = -1 : tensor<4x2xf32>
  %sum = kiln.reduce sum %values axes = [-1] keepdims : tensor<4x1xf32>
  %wts = kiln.binary div %values, %sum : tensor<4x1xf32>, tensor<4x1xf32>
  %idx3 = kiln.reshape %indices : tensor<4x1xi64> -> tensor<4x1x1xi64>
  %hot = kiln.compare eq %idx3, %iota : tensor<4x1x1xi64>, tensor<2xi64>
  %hot64 = kiln.cast %hot : tensor<4x1x2xi1> to tensor<4x1x2xi64>
  %mask = kiln.transpose %hot64 perm = [2, 1, 0] : tensor<4x1x2xi64>
  %xt = kiln.transpose %x perm = [1, 0, 2] : tensor<1x4x8xf32>
  %w3 = kiln.reshape %wts : tensor<4x1xf32> -> tensor<4x1x1xf32>
  %m0 = kiln.gather %mask[%c0] axis = 0 : tensor<2x1x4xi64>, tensor<i64>
  %nz0 = kiln.nonzero %m0 : tensor<1x4xi64>
  %p0 = kiln.transpose %nz0 perm = [1, 0] : tensor<2x?xi64>
  %slot0 = kiln.slice %p0 starts = [0, 0] ends = [9223372036854775807, 1] steps = [1, 1] : tensor<?x2xi64>
  %tok0 = kiln.slice %p0 starts = [0, 1] ends = [9223372036854775807, 2] steps = [1, 1] : tensor<?x2xi64>
  %rows0 = kiln.gather_nd %xt[%tok0] : tensor<4x1x8xf32>, tensor<?x1xi64>
  %rt0 = kiln.transpose %rows0 perm = [1, 0, 2] : tensor<?x1x8xf32>
  %h0 = kiln.reshape %rt0 : tensor<1x?x8xf32> -> tensor<?x8xf32>
  %a0 = kiln.matmul %h0, %g0 : tensor<?x8xf32>, tensor<8x8xf32>
  %s0 = kiln.unary sigmoid %a0 : tensor<?x8xf32>
  %act0 = kiln.binary mul %a0, %s0 : tensor<?x8xf32>, tensor<?x8xf32>
  %b0 = kiln.matmul %h0, %u0 : tensor<?x8xf32>, tensor<8x8xf32>
  %ab0 = kiln.binary mul %act0, %b0 : tensor<?x8xf32>, tensor<?x8xf32>
  %y0 = kiln.matmul %ab0, %d0 : tensor<?x8xf32>, tensor<8x8xf32>
  %pairs0 = kiln.concat %tok0, %slot0 axis = -1 : tensor<?x1xi64>, tensor<?x1xi64>
  %w0 = kiln.gather_nd %w3[%pairs0] : tensor<4x1x1xf32>, tensor<?x2xi64>
  %yw0 = kiln.binary mul %y0, %w0 : tensor<?x8xf32>, tensor<?x1xf32>
  %acc0 = kiln.scatter_nd %yw0 into %zeros[%tok0] {reduction = #kiln<reduction add>} : tensor<4x8xf32>, tensor<?x1xi64>, tensor<?x8xf32>
  %m1 = kiln.gather %mask[%c1] axis = 0 : tensor<2x1x4xi64>, tensor<i64>
  %nz1 = kiln.nonzero %m1 : tensor<1x4xi64>
  %p1 = kiln.transpose %nz1 perm = [1, 0] : tensor<2x?xi64>
  %slot1 = kiln.slice %p1 starts = [0, 0] ends = [9223372036854775807, 1] steps = [1, 1] : tensor<?x2xi64>
  %tok1 = kiln.slice %p1 starts = [0, 1] ends = [9223372036854775807, 2] steps = [1, 1] : tensor<?x2xi64>
  %rows1 = kiln.gather_nd %xt[%tok1] : tensor<4x1x8xf32>, tensor<?x1xi64>
  %rt1 = kiln.transpose %rows1 perm = [1, 0, 2] : tensor<?x1x8xf32>
  %h1 = kiln.reshape %rt1 : tensor<1x?x8xf32> -> tensor<?x8xf32>
  %a1 = kiln.matmul %h1, %g1 : tensor<?x8xf32>, tensor<8x8xf32>
  %s1 = kiln.unary sigmoid %a1 : tensor<?x8xf32>
  %act1 = kiln.binary mul %a1, %s1 : tensor<?x8xf32>, tensor<?x8xf32>
  %b1 = kiln.matmul %h1, %u1 : tensor<?x8xf32>, tensor<8x8xf32>
  %ab1 = kiln.binary mul %act1, %b1 : tensor<?x8xf32>, tensor<?x8xf32>
  %y1 = kiln.matmul %ab1, %d1 : tensor<?x8xf32>, tensor<8x8xf32>
  %pairs1 = kiln.concat %tok1, %slot1 axis = -1 : tensor<?x1xi64>, tensor<?x1xi64>
  %w1 = kiln.gather_nd %w3[%pairs1] : tensor<4x1x1xf32>, tensor<?x2xi64>
  %yw1 = kiln.binary mul %y1, %w1 : tensor<?x8xf32>, tensor<?x1xf32>
  %acc1 = kiln.scatter_nd %yw1 into %acc0[%tok1] {reduction = #kiln<reduction add>} : tensor<4x8xf32>, tensor<?x1xi64>, tensor<?x8xf32>
  %out = kiln.reshape %acc1 : tensor<4x8xf32> -> tensor<1x4x8xf32>
  return %out : tensor<1x4x8xf32>
}

// -----

// Look-alike: the weight picked at (slot, token) instead of (token, slot)
// is another element of w: no fusion.
// CHECK-LABEL: func.func @sparse_torch_export_swapped_pairs
// CHECK-NOT: kiln.moe
// CHECK: kiln.scatter_nd
func.func @sparse_torch_export_swapped_pairs(%x: tensor<1x4x8xf32>, %r: tensor<2x8xf32>, %g0: tensor<8x8xf32>, %u0: tensor<8x8xf32>, %d0: tensor<8x8xf32>, %g1: tensor<8x8xf32>, %u1: tensor<8x8xf32>, %d1: tensor<8x8xf32>) -> tensor<1x4x8xf32> {
  %c0 = arith.constant dense<0> : tensor<i64>
  %c1 = arith.constant dense<1> : tensor<i64>
  %iota = arith.constant dense<[0, 1]> : tensor<2xi64>
  %zeros = arith.constant dense<0.000000e+00> : tensor<4x8xf32>
  %x2 = kiln.reshape %x : tensor<1x4x8xf32> -> tensor<4x8xf32>
  %rT = kiln.transpose %r perm = [1, 0] : tensor<2x8xf32>
  %logits = kiln.matmul %x2, %rT : tensor<4x8xf32>, tensor<8x2xf32>
  %probs = kiln.softmax %logits axis = 1 : tensor<4x2xf32>
  %values, %indices = kiln.topk %probs k = 1 axis = -1 : tensor<4x2xf32>
  %sum = kiln.reduce sum %values axes = [-1] keepdims : tensor<4x1xf32>
  %wts = kiln.binary div %values, %sum : tensor<4x1xf32>, tensor<4x1xf32>
  %idx3 = kiln.reshape %indices : tensor<4x1xi64> -> tensor<4x1x1xi64>
  %hot = kiln.compare eq %idx3, %iota : tensor<4x1x1xi64>, tensor<2xi64>
  %hot64 = kiln.cast %hot : tensor<4x1x2xi1> to tensor<4x1x2xi64>
  %mask = kiln.transpose %hot64 perm = [2, 1, 0] : tensor<4x1x2xi64>
  %xt = kiln.transpose %x perm = [1, 0, 2] : tensor<1x4x8xf32>
  %w3 = kiln.reshape %wts : tensor<4x1xf32> -> tensor<4x1x1xf32>
  %m0 = kiln.gather %mask[%c0] axis = 0 : tensor<2x1x4xi64>, tensor<i64>
  %nz0 = kiln.nonzero %m0 : tensor<1x4xi64>
  %p0 = kiln.transpose %nz0 perm = [1, 0] : tensor<2x?xi64>
  %slot0 = kiln.slice %p0 starts = [0, 0] ends = [9223372036854775807, 1] steps = [1, 1] : tensor<?x2xi64>
  %tok0 = kiln.slice %p0 starts = [0, 1] ends = [9223372036854775807, 2] steps = [1, 1] : tensor<?x2xi64>
  %rows0 = kiln.gather_nd %xt[%tok0] : tensor<4x1x8xf32>, tensor<?x1xi64>
  %rt0 = kiln.transpose %rows0 perm = [1, 0, 2] : tensor<?x1x8xf32>
  %h0 = kiln.reshape %rt0 : tensor<1x?x8xf32> -> tensor<?x8xf32>
  %a0 = kiln.matmul %h0, %g0 : tensor<?x8xf32>, tensor<8x8xf32>
  %s0 = kiln.unary sigmoid %a0 : tensor<?x8xf32>
  %act0 = kiln.binary mul %a0, %s0 : tensor<?x8xf32>, tensor<?x8xf32>
  %b0 = kiln.matmul %h0, %u0 : tensor<?x8xf32>, tensor<8x8xf32>
  %ab0 = kiln.binary mul %act0, %b0 : tensor<?x8xf32>, tensor<?x8xf32>
  %y0 = kiln.matmul %ab0, %d0 : tensor<?x8xf32>, tensor<8x8xf32>
  %pairs0 = kiln.concat %slot0, %tok0 axis = -1 : tensor<?x1xi64>, tensor<?x1xi64>
  %w0 = kiln.gather_nd %w3[%pairs0] : tensor<4x1x1xf32>, tensor<?x2xi64>
  %yw0 = kiln.binary mul %y0, %w0 : tensor<?x8xf32>, tensor<?x1xf32>
  %acc0 = kiln.scatter_nd %yw0 into %zeros[%tok0] {reduction = #kiln<reduction add>} : tensor<4x8xf32>, tensor<?x1xi64>, tensor<?x8xf32>
  %m1 = kiln.gather %mask[%c1] axis = 0 : tensor<2x1x4xi64>, tensor<i64>
  %nz1 = kiln.nonzero %m1 : tensor<1x4xi64>
  %p1 = kiln.transpose %nz1 perm = [1, 0] : tensor<2x?xi64>
  %slot1 = kiln.slice %p1 starts = [0, 0] ends = [9223372036854775807, 1] steps = [1, 1] : tensor<?x2xi64>
  %tok1 = kiln.slice %p1 starts = [0, 1] ends = [9223372036854775807, 2] steps = [1, 1] : tensor<?x2xi64>
  %rows1 = kiln.gather_nd %xt[%tok1] : tensor<4x1x8xf32>, tensor<?x1xi64>
  %rt1 = kiln.transpose %rows1 perm = [1, 0, 2] : tensor<?x1x8xf32>
  %h1 = kiln.reshape %rt1 : tensor<1x?x8xf32> -> tensor<?x8xf32>
  %a1 = kiln.matmul %h1, %g1 : tensor<?x8xf32>, tensor<8x8xf32>
  %s1 = kiln.unary sigmoid %a1 : tensor<?x8xf32>
  %act1 = kiln.binary mul %a1, %s1 : tensor<?x8xf32>, tensor<?x8xf32>
  %b1 = kiln.matmul %h1, %u1 : tensor<?x8xf32>, tensor<8x8xf32>
  %ab1 = kiln.binary mul %act1, %b1 : tensor<?x8xf32>, tensor<?x8xf32>
  %y1 = kiln.matmul %ab1, %d1 : tensor<?x8xf32>, tensor<8x8xf32>
  %pairs1 = kiln.concat %slot1, %tok1 axis = -1 : tensor<?x1xi64>, tensor<?x1xi64>
  %w1 = kiln.gather_nd %w3[%pairs1] : tensor<4x1x1xf32>, tensor<?x2xi64>
  %yw1 = kiln.binary mul %y1, %w1 : tensor<?x8xf32>, tensor<?x1xf32>
  %acc1 = kiln.scatter_nd %yw1 into %acc0[%tok1] {reduction = #kiln<reduction add>} : tensor<4x8xf32>, tensor<?x1xi64>, tensor<?x8xf32>
  %out = kiln.reshape %acc1 : tensor<4x8xf32> -> tensor<1x4x8xf32>
  return %out : tensor<1x4x8xf32>
}
