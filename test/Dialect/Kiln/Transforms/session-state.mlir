// RUN: kiln-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(kiln-session-state{max-context=4096}))' -verify-diagnostics | FileCheck %s

// present = Concat(past, new) along past's dynamic dim: the cache becomes a
// writable argument of 4096 entries, named as past was (past stays, for its
// length), the concat an append at past's length, the output the new length.
// CHECK-LABEL: func.func @main
// CHECK-SAME: %[[PAST:[^:]*]]: tensor<1x2x?x16xf32> {kiln.dim_names = ["", "", "past", ""], kiln.name = "past_key_0.length"}
// CHECK-SAME: %[[CACHE:[^:]*]]: tensor<1x2x4096x16xf32> {kiln.dim_names = ["", "", "", ""], kiln.name = "past_key_0", kiln.state = {axis = 2 : i64, length_input = 1 : i64, length_output = 1 : i64, present = "present_key_0"}}
// CHECK-SAME: -> (tensor<1x2x1x16xf32> {kiln.name = "y"}, tensor<1xi64> {kiln.name = "present_key_0"})
// CHECK: %[[SHAPE:.*]] = kiln.shape %[[PAST]]
// CHECK: %[[N:.*]] = kiln.reshape
// CHECK: %[[P:.*]] = kiln.cache_append %[[CACHE]], %{{.*}} at %[[N]] axis = 2 : tensor<1x2x4096x16xf32>, tensor<1x2x1x16xf32>, tensor<1xi64> -> tensor<1x2x?x16xf32>
// CHECK: %[[END:.*]] = kiln.binary add %[[N]], %{{.*}}
// CHECK: kiln.reduce sum %[[P]]
// CHECK: return %{{.*}}, %[[END]]
func.func @main(%new: tensor<1x2x1x16xf32> {kiln.name = "k"},
                %past: tensor<1x2x?x16xf32> {kiln.name = "past_key_0", kiln.dim_names = ["", "", "past", ""]})
    -> (tensor<1x2x1x16xf32> {kiln.name = "y"}, tensor<1x2x?x16xf32> {kiln.name = "present_key_0"}) {
  %present = kiln.concat %past, %new axis = -2 : tensor<1x2x?x16xf32>, tensor<1x2x1x16xf32>
  %s = kiln.reduce sum %present axes = [2] keepdims : tensor<1x2x?x16xf32>
  %y = kiln.binary add %new, %s : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>
  return %y, %present : tensor<1x2x1x16xf32>, tensor<1x2x?x16xf32>
}

// -----

// Past read by more than the concat (not only for its shape): no cache.
// expected-error @+1 {{--max-context: the model has no KV cache to keep in the session}}
func.func @main(%new: tensor<1x2x1x16xf32>, %past: tensor<1x2x?x16xf32>)
    -> (tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) {
  %present = kiln.concat %past, %new axis = 2 : tensor<1x2x?x16xf32>, tensor<1x2x1x16xf32>
  %twice = kiln.binary add %past, %past : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>
  return %twice, %present : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>
}

// -----

// A past batch dim named by past alone: sized from the present where the
// graph pins it (torch.export names each past's batch on its own, then
// specializes it), from the input sharing its name otherwise.
// CHECK-LABEL: func.func @main
// CHECK-SAME: tensor<?x2x4096x16xf32> {kiln.dim_names = ["batch", "", "", ""], kiln.name = "past_key_0"
// CHECK-SAME: tensor<1x2x4096x16xf32> {kiln.dim_names = ["", "", "", ""], kiln.name = "past_key_1"
func.func @main(%new: tensor<?x2x1x16xf32> {kiln.name = "k", kiln.dim_names = ["batch", "", "", ""]},
                %p0: tensor<?x2x?x16xf32> {kiln.name = "past_key_0", kiln.dim_names = ["batch", "", "past", ""]},
                %p1: tensor<?x2x?x16xf32> {kiln.name = "past_key_1", kiln.dim_names = ["s87", "", "past", ""]})
    -> (tensor<?x2x?x16xf32> {kiln.name = "present_key_0"}, tensor<1x2x?x16xf32> {kiln.name = "present_key_1"}) {
  %c0 = kiln.concat %p0, %new axis = 2 : tensor<?x2x?x16xf32>, tensor<?x2x1x16xf32>
  %one = kiln.reshape %new : tensor<?x2x1x16xf32> -> tensor<1x2x1x16xf32>
  %c1 = kiln.concat %p1, %one axis = 2 : tensor<?x2x?x16xf32>, tensor<1x2x1x16xf32>
  return %c0, %c1 : tensor<?x2x?x16xf32>, tensor<1x2x?x16xf32>
}

// -----

// A dynamic cache dim no input the caller gives has: refused at compile time.
// expected-error @+1 {{--max-context: dim 0 of 'past_key_0' ('s9') is dynamic and no other input has it}}
func.func @main(%new: tensor<?x2x1x16xf32> {kiln.name = "k", kiln.dim_names = ["batch", "", "", ""]},
                %p0: tensor<?x2x?x16xf32> {kiln.name = "past_key_0", kiln.dim_names = ["s9", "", "past", ""]})
    -> (tensor<?x2x?x16xf32> {kiln.name = "present_key_0"}) {
  %c0 = kiln.concat %p0, %new axis = 2 : tensor<?x2x?x16xf32>, tensor<?x2x1x16xf32>
  return %c0 : tensor<?x2x?x16xf32>
}

// -----

// An attention op's own cache (ONNX Attention's past_key / past_value) is
// written as Concat(past, new) first: both pasts become caches, the op
// attends to the appended caches and keeps its mask and causal frontier.
// CHECK-LABEL: func.func @main
// CHECK-SAME: kiln.name = "past_key.length"
// CHECK-SAME: kiln.name = "past_value.length"
// CHECK-SAME: kiln.name = "past_key", kiln.state = {axis = 2 : i64, length_input = 3 : i64, length_output = 1 : i64, present = "present_key"}
// CHECK-SAME: kiln.name = "past_value", kiln.state = {axis = 2 : i64, length_input = 4 : i64, length_output = 2 : i64, present = "present_value"}
// CHECK: %[[K:.*]] = kiln.cache_append
// CHECK: %[[V:.*]] = kiln.cache_append
// CHECK: kiln.attention %arg0, %[[K]], %[[V]] {causal} : tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x4x1x8xf32>
func.func @main(%q: tensor<1x4x1x8xf32> {kiln.name = "q"}, %k: tensor<1x2x1x8xf32> {kiln.name = "k"},
                %v: tensor<1x2x1x8xf32> {kiln.name = "v"},
                %pk: tensor<1x2x?x8xf32> {kiln.name = "past_key", kiln.dim_names = ["", "", "past", ""]},
                %pv: tensor<1x2x?x8xf32> {kiln.name = "past_value", kiln.dim_names = ["", "", "past", ""]})
    -> (tensor<1x4x1x8xf32> {kiln.name = "y"}, tensor<1x2x?x8xf32> {kiln.name = "present_key"},
        tensor<1x2x?x8xf32> {kiln.name = "present_value"}) {
  %y, %ck, %cv = kiln.attention %q, %k, %v past(%pk, %pv : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) {causal} : tensor<1x4x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32> -> tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
  return %y, %ck, %cv : tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
}
