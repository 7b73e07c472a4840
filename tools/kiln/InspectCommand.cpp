//===- InspectCommand.cpp - kiln inspect ----------------------------------===//
//
// Prints what an artifact holds: format version, inputs and outputs, weights
// (count and bytes; with --weights each one), kernels per target, and the plan. Reads the file with
// the same verifying reader the runtime uses.
//
//===----------------------------------------------------------------------===//

#include "tools/kiln/Commands.h"

#include "lib/artifact/ArtifactFormat.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;
namespace fb = kiln::artifact::fb;

namespace kiln::cli {

cl::SubCommand inspectCommand("inspect", "Describe a compiled .kiln artifact");

static cl::opt<std::string> artifactPath(cl::Positional, cl::desc("ART.kiln"),
                                         cl::Required, cl::sub(inspectCommand));

static cl::opt<bool> listWeights("weights", cl::desc("Also list each weight: name and bytes"),
                                 cl::sub(inspectCommand));

/// Prints the tensors of `v` but for the `hidden` ones (session state's).
static void printTensors(const char *title,
                         const flatbuffers::Vector<flatbuffers::Offset<fb::TensorInfo>> *v,
                         const std::vector<bool> &hidden) {
  llvm::outs() << title << ":\n";
  for (size_t k = 0; k < v->size(); ++k) {
    if (k < hidden.size() && hidden[k])
      continue;
    const fb::TensorInfo *t = v->Get(k);
    llvm::outs() << "  " << (t->name() ? t->name()->str() : "?") << ": "
                 << fb::EnumNameDType(t->dtype()) << "[";
    // A dynamic dim prints as {name} (ONNX dim_param) or ?.
    if (t->shape())
      for (size_t i = 0; i < t->shape()->size(); ++i) {
        llvm::outs() << (i ? "x" : "");
        const flatbuffers::String *name =
            t->dim_names() && i < t->dim_names()->size() ? t->dim_names()->Get(i) : nullptr;
        if (t->shape()->Get(i) >= 0)
          llvm::outs() << t->shape()->Get(i);
        else if (name && name->size())
          llvm::outs() << "{" << name->str() << "}";
        else
          llvm::outs() << "?";
      }
    llvm::outs() << "]";
    if (t->max_shape()) {
      llvm::outs() << " (at most ";
      for (size_t i = 0; i < t->max_shape()->size(); ++i) {
        int64_t bound = t->max_shape()->Get(i);
        if (bound < 0 && i < t->shape()->size())
          bound = t->shape()->Get(i);
        llvm::outs() << (i ? "x" : "");
        if (bound >= 0)
          llvm::outs() << bound;
        else
          llvm::outs() << "?"; // (dynamic, no bound given)
      }
      llvm::outs() << ")";
    }
    llvm::outs() << "\n";
  }
}

int runInspect() {
  std::string error;
  auto a = artifact::Artifact::open(artifactPath, error);
  if (!a) {
    llvm::errs() << "kiln: error: " << error << "\n";
    return kBadInput;
  }
  const fb::Manifest &m = a->manifest();
  llvm::outs() << "artifact: " << artifactPath << " (format " << artifact::kFormatVersion
               << ", " << a->fileSize() << " bytes, producer "
               << (m.producer() ? m.producer()->str() : "?") << ")\n";
  // Session caches (--max-context): their inputs and outputs are the
  // runtime's, listed as states.
  std::vector<bool> hiddenIn(m.inputs()->size(), false), hiddenOut(m.outputs()->size(), false);
  if (m.states())
    for (const fb::State *st : *m.states()) {
      hiddenIn[st->cache()] = hiddenIn[st->length_input()] = true;
      hiddenOut[st->length_output()] = true;
    }
  printTensors("inputs", m.inputs(), hiddenIn);
  printTensors("outputs", m.outputs(), hiddenOut);
  if (m.states()) {
    llvm::outs() << "session state (KV caches kept by the runtime):\n";
    for (const fb::State *st : *m.states()) {
      const fb::TensorInfo *cache = m.inputs()->Get(st->cache());
      llvm::outs() << "  " << st->name()->str() << " -> " << st->present()->str() << ": "
                   << fb::EnumNameDType(cache->dtype()) << ", " << cache->shape()->Get(st->axis())
                   << " entries along dim " << st->axis() << "\n";
    }
  }
  if (m.input_values()) {
    llvm::outs() << "sizes decided by the values of:";
    for (const fb::InputValues *v : *m.input_values())
      if (const flatbuffers::String *name = m.inputs()->Get(v->input())->name())
        llvm::outs() << " " << name->str();
    llvm::outs() << "\n";
  }
  if (m.data_dims() && m.data_dims()->size()) {
    llvm::outs() << "sizes decided by the data: " << m.data_dims()->size()
                 << " (counts a NonZero, Compress, NonMaxSuppression or Unique computes, stored by dispatches";
    for (const fb::DataDim *d : *m.data_dims())
      llvm::outs() << " " << d->dispatch();
    llvm::outs() << "; outputs sized by one hold the bound, the run gives the size)\n";
  }
  uint64_t weightBytes = 0;
  size_t weights = m.weights() ? m.weights()->size() : 0;
  if (m.weights())
    for (const fb::Weight *w : *m.weights())
      weightBytes += w->data()->size();
  llvm::outs() << "weights: " << weights << " tensors, " << weightBytes << " bytes\n";
  if (listWeights && m.weights())
    for (const fb::Weight *w : *m.weights())
      llvm::outs() << "  " << (w->name() ? w->name()->str() : "?") << ": "
                   << w->data()->size() << " bytes\n";
  llvm::outs() << "kernels:\n";
  for (const fb::Kernel *k : *m.kernels()) {
    llvm::outs() << "  " << k->target()->str() << ": " << k->format()->str() << ", entry "
                 << k->entry()->str() << ", " << k->data()->size() << " bytes\n";
    if (!k->launches() || !k->launches()->size())
      continue;
    llvm::outs() << "    " << k->launches()->size() << " launch(es), device arena "
                 << k->arena_bytes() << " bytes\n";
    for (const fb::Launch *l : *k->launches()) {
      auto dims = [](const flatbuffers::Vector<uint32_t> *v) {
        return std::to_string(v->Get(0)) + "x" + std::to_string(v->Get(1)) + "x" +
               std::to_string(v->Get(2));
      };
      llvm::outs() << "    " << l->entry()->str() << " grid " << dims(l->grid()) << " block "
                   << dims(l->block()) << ":";
      for (const fb::LaunchArg *a : *l->args()) {
        if (a->kind() == fb::LaunchArgKind::Scalar) {
          llvm::outs() << " " << (unsigned)a->bytes() << "B:0x";
          llvm::outs().write_hex(a->bits());
        } else if (a->buffer()->kind() == fb::BufferKind::Arena) {
          llvm::outs() << " Arena+" << a->buffer()->offset();
        } else {
          llvm::outs() << " " << fb::EnumNameBufferKind(a->buffer()->kind())
                       << a->buffer()->index();
        }
      }
      llvm::outs() << "\n";
    }
  }
  llvm::outs() << "plan: " << m.plan()->size() << " dispatch(es)\n";
  for (const fb::Dispatch *d : *m.plan()) {
    llvm::outs() << "  " << d->entry()->str() << " (kernel " << d->kernel() << ", "
                 << d->workgroups() << " workgroup" << (d->workgroups() == 1 ? "" : "s")
                 << "):";
    for (const fb::Binding *b : *d->buffers()) {
      if (b->kind() == fb::BufferKind::Arena)
        llvm::outs() << " Arena+" << b->offset();
      else
        llvm::outs() << " " << fb::EnumNameBufferKind(b->kind()) << b->index();
    }
    llvm::outs() << "\n";
  }
  if (m.host_steps() && m.host_steps()->size()) {
    llvm::outs() << "host steps: " << m.host_steps()->size() << " (run by the runtime before "
                 << "the plan)\n";
    for (const fb::HostStep *h : *m.host_steps()) {
      llvm::outs() << "  " << fb::EnumNameHostOp(h->op_type());
      if (h->name() && h->name()->size())
        llvm::outs() << " '" << h->name()->str() << "'";
      llvm::outs() << ":";
      for (const fb::HostRef *r : *h->inputs())
        llvm::outs() << " " << fb::EnumNameHostValueKind(r->kind()) << r->index();
      llvm::outs() << " ->";
      for (const fb::HostRef *r : *h->outputs())
        llvm::outs() << " " << fb::EnumNameHostValueKind(r->kind()) << r->index();
      llvm::outs() << "\n";
    }
  }
  uint64_t arena = m.arena_bytes(), sum = m.intermediate_bytes();
  llvm::outs() << "arena: " << arena << " bytes for " << sum << " bytes of intermediates";
  if (sum)
    llvm::outs() << llvm::format(" (%.1f%%)", 100.0 * arena / sum);
  llvm::outs() << "\n";
  return kOk;
}

} // namespace kiln::cli
