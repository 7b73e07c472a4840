//===- KilnSpecialOps.td - special-purpose kiln ops --------*- tablegen -*-===//
//
// Ops that exist so whole models import, not for speed: random numbers,
// recurrent cells, detection and sampling ops, signal processing, text
// features and linear algebra. Each maps one ONNX op whose semantics no
// composition of the core ops expresses without loops. Included from
// KilnOps.td; shape rules in KilnSpecialOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_SPECIAL_OPS_TD
#define KILN_SPECIAL_OPS_TD

def Kiln_RandomOp : Kiln_Op<"random"> {
  let summary = "a tensor of random numbers";
  let description = [{
    `uniform` draws from [a, b); `normal` from N(mean = a, stddev = b). The
    result type gives the shape, or `like` does (its shape, not its values).
    With `seed` the sequence is reproducible. The op has effects so that two
    draws are never merged.
  }];
  let arguments = (ins Kiln_RandomDist:$dist, Optional<Kiln_Tensor>:$like,
                       F64Attr:$a, F64Attr:$b, OptionalAttr<F64Attr>:$seed);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $dist ($like^ `:` type($like))? attr-dict `->` type($result)
  }];
  let hasVerifier = 1;
}

def Kiln_RnnOp : Kiln_InferOp<"rnn", [AttrSizedOperandSegments]> {
  let summary = "a recurrent layer (RNN, GRU or LSTM) over a sequence";
  let description = [{
    ONNX RNN/GRU/LSTM semantics. `x`: `[S, B, I]` (`[B, S, I]` with
    `batch_first`); `w`: `[D, G*H, I]`, `r`: `[D, G*H, H]` with D = 2 for
    `bidirectional`, G = 1, 3, 4 gates; `b`: `[D, 2*G*H]`; `sequence_lens`:
    `[B]`; `initial_h`/`initial_c`: `[D, B, H]`; `p` (LSTM peepholes):
    `[D, 3*H]`. Results: `y` `[S, D, B, H]`, `y_h` (and for LSTM `y_c`)
    `[D, B, H]` (batch first: `[B, S, D, H]` and `[B, D, H]`).
    `activations` names the gate functions per direction as ONNX does,
    with `activation_alpha`/`activation_beta` parameters.
  }];
  let arguments = (ins Kiln_RnnKind:$kind, Kiln_FloatTensor:$x,
                       Kiln_FloatTensor:$w, Kiln_FloatTensor:$r,
                       Optional<Kiln_FloatTensor>:$b,
                       Optional<Kiln_IndexTensor>:$sequence_lens,
                       Optional<Kiln_FloatTensor>:$initial_h,
                       Optional<Kiln_FloatTensor>:$initial_c,
                       Optional<Kiln_FloatTensor>:$p,
                       ConfinedAttr<I64Attr, [IntPositive]>:$hidden_size,
                       DefaultValuedAttr<Kiln_RnnDirectionAttr,
                                         "::kiln::RnnDirection::forward">:$direction,
                       StrArrayAttr:$activations,
                       DefaultValuedAttr<F32ArrayAttr, "{}">:$activation_alpha,
                       DefaultValuedAttr<F32ArrayAttr, "{}">:$activation_beta,
                       OptionalAttr<F64Attr>:$clip,
                       UnitAttr:$linear_before_reset, UnitAttr:$input_forget,
                       UnitAttr:$batch_first);
  let results = (outs Kiln_FloatTensor:$y, Kiln_FloatTensor:$y_h,
                      Optional<Kiln_FloatTensor>:$y_c);
  let assemblyFormat = [{
    $kind $x `,` $w `,` $r (`bias` $b^ `:` type($b))?
    (`lens` $sequence_lens^ `:` type($sequence_lens))?
    (`h0` $initial_h^ `:` type($initial_h))?
    (`c0` $initial_c^ `:` type($initial_c))?
    (`peephole` $p^ `:` type($p))?
    attr-dict `:` type($x) `,` type($w) `,` type($r)
  }];
}

def Kiln_NonMaxSuppressionOp : Kiln_InferOp<"non_max_suppression",
    [AttrSizedOperandSegments]> {
  let summary = "greedy box selection by score and overlap";
  let description = [{
    `boxes`: `[B, N, 4]` (corners, or center/size with `center_point_box`),
    `scores`: `[B, C, N]`. Per batch and class, keeps boxes by descending
    score whose IoU with every kept box is at most `iou_threshold`, at most
    `max_output` per class, with score above `score_threshold` when given.
    The result lists `[batch, class, box]` triples: `[?, 3]` i64.
  }];
  let arguments = (ins Kiln_FloatTensor:$boxes, Kiln_FloatTensor:$scores,
                       Optional<RankedTensorOf<[I64]>>:$max_output,
                       Optional<Kiln_FloatTensor>:$iou_threshold,
                       Optional<Kiln_FloatTensor>:$score_threshold,
                       UnitAttr:$center_point_box);
  let results = (outs RankedTensorOf<[I64]>:$selected);
  let assemblyFormat = [{
    $boxes `,` $scores (`max_output` $max_output^ `:` type($max_output))?
    (`iou` $iou_threshold^ `:` type($iou_threshold))?
    (`score` $score_threshold^ `:` type($score_threshold))?
    attr-dict `:` type($boxes) `,` type($scores)
  }];
  let hasVerifier = 1;
}

def Kiln_UniqueOp : Kiln_InferOp<"unique"> {
  let summary = "distinct elements or slices, with indices and counts";
  let description = [{
    Without `axis`, the distinct elements of the flattened input; with it,
    the distinct slices along `axis`. `sorted` orders them ascending, else
    by first occurrence. Results: the unique values, the index of each
    one's first occurrence, for every input element/slice the index of its
    unique value, and the count of each (indices i64).
  }];
  let arguments = (ins Kiln_Tensor:$input, OptionalAttr<I64Attr>:$axis,
                       DefaultValuedAttr<BoolAttr, "true">:$sorted);
  let results = (outs Kiln_Tensor:$values, RankedTensorOf<[I64]>:$indices,
                      RankedTensorOf<[I64]>:$inverse_indices,
                      RankedTensorOf<[I64]>:$counts);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Kiln_GridSampleOp : Kiln_InferOp<"grid_sample"> {
  let summary = "sample an N-d input at normalized grid coordinates";
  let description = [{
    `input`: `[N, C, D1, ..., Dk]`, `grid`: `[N, O1, ..., Ok, k]` with
    coordinates in [-1, 1] (x first); the result is `[N, C, O1, ..., Ok]`.
    `mode` interpolates, `padding` says what lies outside, `align_corners`
    maps -1 and 1 to the corner pixels' centers instead of their edges.
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$grid,
                       DefaultValuedAttr<Kiln_ResizeModeAttr,
                                         "::kiln::ResizeMode::linear">:$mode,
                       DefaultValuedAttr<Kiln_GridPaddingAttr,
                                         "::kiln::GridPadding::zeros">:$padding,
                       UnitAttr:$align_corners);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input `,` $grid attr-dict `:` type($input) `,` type($grid)";
}

def Kiln_RoiAlignOp : Kiln_InferOp<"roi_align"> {
  let summary = "bilinear pooling of regions of interest (Mask R-CNN)";
  let description = [{
    `input`: `[N, C, H, W]`, `rois`: `[R, 4]` as (x1, y1, x2, y2) in input
    coordinates before `spatial_scale`, `batch_indices`: `[R]`. Each region
    is divided into `output_height` x `output_width` bins, each sampled on
    a `sampling_ratio` grid (adaptive when 0) and pooled by `mode` (max or
    avg). `half_pixel` shifts coordinates by -0.5 (ONNX `half_pixel`).
    The result is `[R, C, output_height, output_width]`.
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$rois,
                       Kiln_IndexTensor:$batch_indices, Kiln_PoolKind:$mode,
                       ConfinedAttr<I64Attr, [IntPositive]>:$output_height,
                       ConfinedAttr<I64Attr, [IntPositive]>:$output_width,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$sampling_ratio,
                       F32Attr:$spatial_scale, UnitAttr:$half_pixel);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $mode $input `,` $rois `,` $batch_indices attr-dict `:`
    type($input) `,` type($rois) `,` type($batch_indices)
  }];
}

def Kiln_DetOp : Kiln_InferOp<"det"> {
  let summary = "determinant of square matrices";
  let description = "`input`: `[..., M, M]`; the result is `[...]`.";
  let arguments = (ins Kiln_FloatTensor:$input);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Kiln_DftOp : Kiln_InferOp<"dft"> {
  let summary = "discrete Fourier transform along one axis";
  let description = [{
    `input`: `[..., L, ..., 1|2]`, real (last extent 1) or complex (2) values;
    the transform runs along `axis` (not the last) over `length` points
    (the signal is truncated or zero-padded to it). The result is complex,
    `[..., L', ..., 2]` with L' = `length`, or `length / 2 + 1` when
    `onesided`. `inverse` computes the inverse transform (scaled by
    1/length).
  }];
  let arguments = (ins Kiln_FloatTensor:$input, I64Attr:$axis,
                       ConfinedAttr<I64Attr, [IntPositive]>:$length,
                       UnitAttr:$inverse, UnitAttr:$onesided);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Kiln_StftOp : Kiln_InferOp<"stft", [AttrSizedOperandSegments]> {
  let summary = "short-time Fourier transform";
  let description = [{
    `signal`: `[B, L, 1|2]`. Frames of `frame_length` points (the window's
    size when absent) start every `frame_step` points; each is multiplied
    by `window` (when given) and transformed. The result is
    `[B, frames, bins, 2]` with frames = (L - frame_length) / frame_step + 1
    and bins = frame_length (frame_length / 2 + 1 when `onesided`).
  }];
  let arguments = (ins Kiln_FloatTensor:$signal, Kiln_IndexTensor:$frame_step,
                       Optional<Kiln_FloatTensor>:$window,
                       Optional<Kiln_IndexTensor>:$frame_length,
                       UnitAttr:$onesided);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $signal `step` $frame_step `:` type($frame_step)
    (`window` $window^ `:` type($window))?
    (`length` $frame_length^ `:` type($frame_length))?
    attr-dict `:` type($signal)
  }];
}

def Kiln_TfIdfOp : Kiln_InferOp<"tfidf"> {
  let summary = "n-gram counts of integer token sequences (TfIdfVectorizer)";
  let description = [{
    `input`: `[N]` or `[B, N]` integer tokens. Counts the n-grams of lengths
    `min_gram` to `max_gram` (skipping up to `max_skip` tokens between
    items) listed in `pool` (grouped by length at `ngram_counts` offsets)
    into output slots `ngram_indexes`, weighted per `mode`. The result is
    f32 `[S]` or `[B, S]`, S = max(ngram_indexes) + 1.
  }];
  let arguments = (ins Kiln_IndexTensor:$input, Kiln_TfIdfModeAttr:$mode,
                       ConfinedAttr<I64Attr, [IntPositive]>:$min_gram,
                       ConfinedAttr<I64Attr, [IntPositive]>:$max_gram,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$max_skip,
                       DenseI64ArrayAttr:$ngram_counts,
                       DenseI64ArrayAttr:$ngram_indexes,
                       DenseI64ArrayAttr:$pool,
                       DefaultValuedAttr<DenseF32ArrayAttr, "{}">:$weights);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

#endif // KILN_SPECIAL_OPS_TD
