// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-to-linalg))' | FileCheck %s --check-prefix=LOWER

// A KV cache of 4096 entries along dim 2; the result is its first n + 1
// entries once the new one is written at n.
// CHECK-LABEL: func.func @append
// CHECK: kiln.cache_append %{{.*}}, %{{.*}} at %{{.*}} axis = 2 : tensor<?x2x4096x16xf32>, tensor<?x2x1x16xf32>, tensor<1xi64> -> tensor<?x2x?x16xf32>
// The lowering writes into the cache (in place once bufferized into a
// writable argument), asserts the entries fit, and reads a view.
// LOWER-LABEL: func.func @append
// LOWER: %[[AT:.*]] = arith.index_cast
// LOWER: %[[END:.*]] = arith.addi %[[AT]], %c1
// LOWER: %[[FITS:.*]] = arith.cmpi ule, %[[END]], %c4096
// LOWER: cf.assert %[[FITS]], "node 'past_key_0' (session state) needs {0} entries, more than the {1} it holds (--max-context)"
// LOWER: %[[W:.*]] = tensor.insert_slice %arg1 into %arg0[0, 0, %[[AT]], 0] [%{{.*}}, 2, 1, 16] [1, 1, 1, 1]
// LOWER: tensor.extract_slice %[[W]][0, 0, 0, 0] [%{{.*}}, 2, %[[END]], 16] [1, 1, 1, 1]
func.func @append(%cache: tensor<?x2x4096x16xf32>, %new: tensor<?x2x1x16xf32>, %n: tensor<1xi64>) -> tensor<?x2x?x16xf32> {
  %0 = kiln.cache_append %cache, %new at %n axis = 2 : tensor<?x2x4096x16xf32>, tensor<?x2x1x16xf32>, tensor<1xi64> -> tensor<?x2x?x16xf32> loc("past_key_0"("session state"))
  return %0 : tensor<?x2x?x16xf32>
}
