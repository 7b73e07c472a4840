// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @construct_dtype(%x: tensor<2xf32>, %y: tensor<2xi32>) {
  // expected-error @+1 {{element of type 'tensor<2xi32>' cannot be an element of a sequence of 'tensor<2xf32>'}}
  %s = kiln.seq_construct %x, %y : tensor<2xf32>, tensor<2xi32> -> !kiln.seq<tensor<2xf32>>
  return
}

// -----

func.func @insert_shape(%s: !kiln.seq<tensor<2x3xf32>>, %x: tensor<4x3xf32>) {
  // expected-error @+1 {{inserted tensor of type 'tensor<4x3xf32>' cannot be an element of a sequence of 'tensor<2x3xf32>'}}
  %r = kiln.seq_insert %s, %x : !kiln.seq<tensor<2x3xf32>>, tensor<4x3xf32> -> !kiln.seq<tensor<2x3xf32>>
  return
}

// -----

func.func @at_position(%s: !kiln.seq<tensor<2xf32>>, %p: tensor<2xi64>) {
  // expected-error @+1 {{position must be a scalar, got 'tensor<2xi64>'}}
  %r = kiln.seq_at %s[%p : tensor<2xi64>] : !kiln.seq<tensor<2xf32>> -> tensor<2xf32>
  return
}

// -----

func.func @split_rank(%x: tensor<2x6xf32>) {
  // expected-error @+1 {{sequence elements have rank 2, expected 1}}
  %s = kiln.split_to_seq %x {axis = 1 : i64, keepdims = false} : tensor<2x6xf32> -> !kiln.seq<tensor<2x1xf32>>
  return
}

// -----

func.func @concat_rank(%s: !kiln.seq<tensor<2xf32>>) {
  // expected-error @+1 {{result must have rank 2, got 'tensor<?xf32>'}}
  %r = kiln.concat_from_seq %s {axis = 0 : i64, new_axis} : !kiln.seq<tensor<2xf32>> -> tensor<?xf32>
  return
}

// -----

func.func @optional_get_type(%o: !kiln.optional<tensor<4xi32>>) {
  // expected-error @+1 {{result type 'tensor<4xf32>' differs from the held 'tensor<4xi32>'}}
  %g = kiln.optional_get %o : !kiln.optional<tensor<4xi32>> -> tensor<4xf32>
  return
}

// -----

func.func @normalize_mode(%s: tensor<4x!kiln.string>) {
  // expected-error @+1 {{case_change must be LOWER, UPPER or NONE, got 'TITLE'}}
  %n = kiln.string_normalize %s {case_change = "TITLE"} : tensor<4x!kiln.string> -> tensor<4x!kiln.string>
  return
}

// -----

func.func @string_math(%s: tensor<4x!kiln.string>) {
  // expected-error @+1 {{'kiln.unary' op 'exp' needs a floating-point tensor}}
  %n = kiln.unary exp %s : tensor<4x!kiln.string>
  return
}
