// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @dynamic() {
  // expected-error @+1 {{weight 'w' must have a static shape, got 'tensor<?x4xf32>'}}
  %0 = kiln.weight "w" from "w.bin" at 0 : tensor<?x4xf32>
  return
}

// -----

func.func @negative_offset() {
  // expected-error @+1 {{attribute 'offset' failed to satisfy constraint: 64-bit signless integer attribute whose value is non-negative}}
  %0 = kiln.weight "w" from "w.bin" at -8 : tensor<4xf32>
  return
}

// -----

func.func @no_file() {
  // expected-error @+1 {{weight 'w' names no file}}
  %0 = kiln.weight "w" from "" at 0 : tensor<4xf32>
  return
}
