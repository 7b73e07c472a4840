//===- ArtifactFormat.cpp - read (mmap + verify) and write .kiln files -----===//

#include "lib/artifact/ArtifactFormat.h"

#include "lib/support/CheckedSize.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL // header-only: the runtime links no xxHash library
#include <xxhash.h>

namespace kiln::artifact {

namespace {
uint64_t readU64(const uint8_t *p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
uint32_t readU32(const uint8_t *p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
std::string sysError(const std::string &what) {
  return what + ": " + std::strerror(errno);
}
uint64_t headerChecksum(const uint8_t *h) { return XXH3_64bits(h, kHeaderSize - 8); }

uint64_t elementBytes(fb::DType t) {
  switch (t) {
  case fb::DType::F64: case fb::DType::I64: case fb::DType::U64: return 8;
  case fb::DType::F32: case fb::DType::I32: case fb::DType::U32: return 4;
  case fb::DType::F16: case fb::DType::BF16: case fb::DType::I16: case fb::DType::U16: return 2;
  default: return 1;
  }
}

/// Bytes of a manifest tensor, or nullopt when a dim is negative, the rank
/// passes kMaxRank or the size 2^48 bytes (Artifact::open rejects those).
std::optional<uint64_t> tensorBytes(const fb::TensorInfo *t) {
  uint64_t n = t->dtype() == fb::DType::String ? sizeof(const char *) : elementBytes(t->dtype());
  if (!t->shape())
    return n;
  // A dynamic dim (-1, with a dims-vector entry) counts as 1 here: the
  // runtime checks each run's sizes.
  std::vector<int64_t> dims(t->shape()->begin(), t->shape()->end());
  for (size_t i = 0; i < dims.size(); ++i)
    if (dims[i] == -1 && t->dims() && i < t->dims()->size() && t->dims()->Get(i) >= 0)
      dims[i] = 1;
  return kiln::checkedTensorBytes(dims, n);
}

bool isDynamic(const fb::TensorInfo *t) {
  return t->shape() && std::find(t->shape()->begin(), t->shape()->end(), -1) != t->shape()->end();
}

bool inside(const fb::Section *s, uint64_t fileSize) {
  return s && s->offset() <= fileSize && s->size() <= fileSize - s->offset();
}
} // namespace

void sealChecksums(uint8_t *data, uint64_t size) {
  if (size < kHeaderSize)
    return;
  uint64_t body = XXH3_64bits(data + kHeaderSize, size - kHeaderSize);
  std::memcpy(data + 32, &body, 8);
  uint64_t self = headerChecksum(data);
  std::memcpy(data + kHeaderSize - 8, &self, 8);
}

std::unique_ptr<Artifact> Artifact::open(const std::string &path, std::string &error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = sysError("cannot open '" + path + "'");
    return nullptr;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    error = sysError("cannot stat '" + path + "'");
    ::close(fd);
    return nullptr;
  }
  uint64_t size = (uint64_t)st.st_size;
  if (size < kHeaderSize) {
    ::close(fd);
    error = "'" + path + "' is not a kiln artifact (too short: " +
            std::to_string(size) + " bytes)";
    return nullptr;
  }
  void *map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) {
    error = sysError("cannot map '" + path + "'");
    return nullptr;
  }
  std::unique_ptr<Artifact> a(new Artifact());
  a->base_ = static_cast<const uint8_t *>(map);
  a->size_ = size;
  const uint8_t *h = a->base_;
  if (std::memcmp(h, kMagic, sizeof(kMagic)) != 0) {
    error = "'" + path + "' is not a kiln artifact (bad magic)";
    return nullptr;
  }
  uint32_t version = readU32(h + 8);
  if (version != kFormatVersion) {
    error = "'" + path + "' has artifact format version " + std::to_string(version) +
            "; this runtime reads version " + std::to_string(kFormatVersion) +
            " (compile the model again)";
    return nullptr;
  }
  if (readU64(h + kHeaderSize - 8) != headerChecksum(h)) {
    error = "'" + path + "' is damaged: its header does not match its checksum";
    return nullptr;
  }
  uint64_t off = readU64(h + 16), len = readU64(h + 24);
  if (off < kHeaderSize || off > size || len > size - off || len == 0) {
    error = "'" + path + "' is truncated or corrupt: the manifest (bytes " +
            std::to_string(off) + "+" + std::to_string(len) + ") lies outside the " +
            std::to_string(size) + "-byte file";
    return nullptr;
  }
  // Every byte after the header, before any of them is interpreted.
  if (XXH3_64bits(h + kHeaderSize, size - kHeaderSize) != readU64(h + 32)) {
    error = "'" + path + "' is damaged: its contents do not match their checksum "
            "(a changed or missing byte; copy or compile it again)";
    return nullptr;
  }
  flatbuffers::Verifier verifier(h + off, len);
  if (!fb::VerifyManifestBuffer(verifier)) {
    error = "'" + path + "' has a corrupt manifest (FlatBuffers verification failed)";
    return nullptr;
  }
  const fb::Manifest *m = fb::GetManifest(h + off);
  if (!m->inputs() || !m->outputs() || !m->kernels() || !m->plan()) {
    error = "'" + path + "' has an incomplete manifest";
    return nullptr;
  }
  // Every shape the runtime sizes buffers from is checked once here, so no
  // product of its dims can overflow later (kiln run, the CUDA device).
  for (auto *list : {m->inputs(), m->outputs()})
    for (const fb::TensorInfo *t : *list)
      if (!tensorBytes(t)) {
        error = "'" + path + "' is corrupt: " + (list == m->inputs() ? "input" : "output") +
                " '" + (t->name() ? t->name()->str() : "?") +
                "' has a negative dim or is larger than kiln accepts (2^48 bytes)";
        return nullptr;
      }
  if (m->weights())
    for (const fb::Weight *w : *m->weights())
      if (!inside(w->data(), size)) {
        error = "'" + path + "' is truncated: weight '" +
                (w->name() ? w->name()->str() : "?") + "' lies outside the file";
        return nullptr;
      }
  for (const fb::Kernel *k : *m->kernels())
    if (!inside(k->data(), size) || !k->entry() || !k->format() || !k->target()) {
      error = "'" + path + "' is truncated or corrupt: a kernel lies outside the file";
      return nullptr;
    }
  // Dynamic dims: entries inside the dims vector, -1 exactly where a dim is
  // static, input dims among the symbols the runtime fills.
  int64_t symbols = m->symbols(), dimsLength = m->dims_length();
  bool dynamic = m->shape_entry() != nullptr;
  // Input values follow the symbols, each a whole static integer or float input.
  int64_t given = symbols;
  bool badValues = m->input_values() && !dynamic;
  if (m->input_values())
    for (const fb::InputValues *v : *m->input_values()) {
      const fb::TensorInfo *t = v->input() < m->inputs()->size() ? m->inputs()->Get(v->input())
                                                                 : nullptr;
      std::optional<uint64_t> bytes = t ? tensorBytes(t) : std::nullopt;
      bool number = t && t->dtype() >= fb::DType::F32 && t->dtype() <= fb::DType::U64;
      badValues |= !t || isDynamic(t) || !number || !bytes || v->entry() != given ||
                   v->count() < 1 || v->count() > 64 ||
                   *bytes != v->count() * elementBytes(t->dtype());
      given += v->count();
    }
  // (A dynamic plan places its arena per run: no static arena beside it.)
  // (A plan asked for input values may be left with none: every size they
  // decided folded away, an empty input's slices, say.)
  if (badValues || (dynamic && (symbols < 0 || dimsLength < given ||
                                dimsLength > (1 << 20) || m->arena_bytes() != 0))) {
    error = "'" + path + "' is corrupt: its dims vector is malformed";
    return nullptr;
  }
  std::vector<bool> filled(dynamic ? symbols : 0, false);
  for (auto *list : {m->inputs(), m->outputs()})
    for (const fb::TensorInfo *t : *list) {
      if (!isDynamic(t) && !t->dims())
        continue;
      bool bad = !dynamic || !t->dims() || !t->shape() ||
                 t->dims()->size() != t->shape()->size();
      for (size_t i = 0; !bad && i < t->dims()->size(); ++i) {
        int64_t e = t->dims()->Get(i), d = t->shape()->Get(i);
        bad = d == -1 ? e < 0 || e >= (list == m->inputs() ? symbols : dimsLength) : e != -1;
        if (!bad && d == -1 && list == m->inputs())
          filled[e] = true;
      }
      if (bad) {
        error = "'" + path + "' is corrupt: '" + (t->name() ? t->name()->str() : "?") +
                "' has dynamic dims without valid dims-vector entries";
        return nullptr;
      }
    }
  // Declared bounds: one per dim of an input, only where it is dynamic.
  for (const fb::TensorInfo *t : *m->inputs()) {
    if (!t->max_shape())
      continue;
    bool bad = !t->shape() || t->max_shape()->size() != t->shape()->size();
    for (size_t i = 0; !bad && i < t->max_shape()->size(); ++i) {
      int64_t bound = t->max_shape()->Get(i);
      bad = t->shape()->Get(i) >= 0 ? bound != -1 : bound < -1;
    }
    if (bad) {
      error = "'" + path + "' is corrupt: '" + (t->name() ? t->name()->str() : "?") +
              "' has malformed shape bounds";
      return nullptr;
    }
  }
  // Every input entry is some input's dim (the runtime fills them all).
  if (std::find(filled.begin(), filled.end(), false) != filled.end()) {
    error = "'" + path + "' is corrupt: a dims-vector entry no input fills";
    return nullptr;
  }
  uint32_t numSlots = m->slots() ? m->slots()->size() : 0;
  if (numSlots && !dynamic) {
    error = "'" + path + "' is corrupt: arena slots without a dims vector";
    return nullptr;
  }
  if (m->slots())
    for (const fb::ArenaSlot *slot : *m->slots())
      if (slot->bytes_entry() < given || slot->bytes_entry() >= dimsLength ||
          slot->last() >= (int64_t)m->plan()->size() || slot->first() > slot->last()) {
        error = "'" + path + "' is corrupt: an arena slot is malformed";
        return nullptr;
      }
  if (m->shape_checks() && (m->shape_checks()->size() != 0 && !dynamic)) {
    error = "'" + path + "' is corrupt: shape checks without a dims vector";
    return nullptr;
  }
  if (m->shape_checks())
    for (const fb::ShapeCheck *c : *m->shape_checks()) {
      auto entry = [&](int64_t e) { return e >= 0 && e < dimsLength; };
      bool dataOk = true; // (each a data dim's entry)
      if (c->data_entries())
        for (int64_t e : *c->data_entries()) {
          bool found = false;
          if (m->data_dims())
            for (const fb::DataDim *d : *m->data_dims())
              found |= d->entry() == e;
          dataOk &= found;
        }
      if (!entry(c->ok()) || c->ok() < given || !c->message() || !dataOk ||
          (c->lhs() != -1 && !entry(c->lhs())) || (c->rhs() != -1 && !entry(c->rhs()))) {
        error = "'" + path + "' is corrupt: a shape check is malformed";
        return nullptr;
      }
    }
  // Data dims: computed entries (after the given ones), each stored by a
  // dispatch of the plan, none twice.
  if (m->data_dims()) {
    std::vector<int64_t> seen;
    for (const fb::DataDim *d : *m->data_dims()) {
      // (Only the dispatch writes it: no entry the shape function fills.)
      bool shared = false;
      if (m->slots())
        for (const fb::ArenaSlot *slot : *m->slots())
          shared |= slot->bytes_entry() == d->entry();
      if (m->shape_checks())
        for (const fb::ShapeCheck *c : *m->shape_checks())
          shared |= c->ok() == d->entry();
      for (const fb::Dispatch *p : *m->plan())
        shared |= p->workgroups_entry() == d->entry();
      if (!dynamic || shared || d->entry() < given || d->entry() >= dimsLength ||
          d->dispatch() >= m->plan()->size() ||
          std::find(seen.begin(), seen.end(), d->entry()) != seen.end()) {
        error = "'" + path + "' is corrupt: a data-dependent size is malformed";
        return nullptr;
      }
      seen.push_back(d->entry());
    }
  }
  // Session caches: a cache input with a static capacity, a length input
  // dynamic there, one i64 length output; each input used once.
  if (m->states()) {
    std::vector<bool> taken(m->inputs()->size(), false);
    std::vector<bool> outputTaken(m->outputs()->size(), false);
    for (const fb::State *st : *m->states()) {
      auto inputAt = [&](uint32_t i) -> const fb::TensorInfo * {
        return i < m->inputs()->size() && !taken[i] ? m->inputs()->Get(i) : nullptr;
      };
      const fb::TensorInfo *cache = inputAt(st->cache());
      const fb::TensorInfo *length = inputAt(st->length_input());
      const fb::TensorInfo *out =
          st->length_output() < m->outputs()->size() && !outputTaken[st->length_output()]
              ? m->outputs()->Get(st->length_output())
              : nullptr;
      // The cache and its length input: one numeric dtype, the same dims
      // but at the growing axis, or dynamic in the length input (the runtime
      // binds one as the other).
      auto sameDimsButAxis = [&] {
        for (uint32_t i = 0; i < cache->shape()->size(); ++i)
          if (i != st->axis() && cache->shape()->Get(i) != length->shape()->Get(i) &&
              length->shape()->Get(i) != -1) // (a dim the graph pins for the cache)
            return false;
        return true;
      };
      bool ok = dynamic && st->name() && st->present() && cache && length && out &&
                st->cache() != st->length_input() && cache->shape() && length->shape() &&
                out->shape() && st->axis() < cache->shape()->size() &&
                cache->shape()->size() == length->shape()->size() &&
                cache->shape()->Get(st->axis()) > 0 && length->shape()->Get(st->axis()) == -1 &&
                out->dtype() == fb::DType::I64 && out->shape()->size() == 1 &&
                out->shape()->Get(0) == 1 && cache->dtype() == length->dtype() &&
                cache->dtype() <= fb::DType::Bool && sameDimsButAxis();
      if (!ok) {
        error = "'" + path + "' is corrupt: a session state is malformed";
        return nullptr;
      }
      taken[st->cache()] = taken[st->length_input()] = true;
      outputTaken[st->length_output()] = true;
    }
  }
  // The compiler never plans an arena past kMaxTensorBytes; a larger one
  // is damage, and its sums could overflow below.
  bool hugeArena = m->arena_bytes() > kiln::kMaxTensorBytes;
  for (const fb::Kernel *k : *m->kernels())
    hugeArena |= k->arena_bytes() > kiln::kMaxTensorBytes;
  if (hugeArena) {
    error = "'" + path + "' is corrupt: its arena is larger than kiln ever plans (2^48 bytes)";
    return nullptr;
  }
  auto count = [](auto *v) { return v ? v->size() : 0u; };
  auto badBinding = [&](const fb::Binding *b, uint64_t arenaBytes) {
    // The verifier does not range-check enums.
    if ((int)b->kind() < 0 || b->kind() > fb::BufferKind::MAX)
      return true;
    // The buffer bound must hold every byte the kernel may touch.
    switch (b->kind()) {
    case fb::BufferKind::Input:
      return b->index() >= count(m->inputs()) ||
             b->size() > (isDynamic(m->inputs()->Get(b->index()))
                              ? 0
                              : *tensorBytes(m->inputs()->Get(b->index())));
    case fb::BufferKind::Output:
      return b->index() >= count(m->outputs()) ||
             b->size() > (isDynamic(m->outputs()->Get(b->index()))
                              ? 0
                              : *tensorBytes(m->outputs()->Get(b->index())));
    case fb::BufferKind::Weight:
      return b->index() >= count(m->weights()) ||
             b->size() > m->weights()->Get(b->index())->data()->size();
    case fb::BufferKind::Arena:
      return b->offset() >= arenaBytes || b->size() > arenaBytes - b->offset();
    case fb::BufferKind::Slot: // (live ranges: checked per dispatch below)
      return !dynamic || b->index() >= numSlots || b->size() != 0;
    case fb::BufferKind::Dims:
      return !dynamic || b->size() > (uint64_t)dimsLength * 8;
    }
    return true;
  };
  for (const fb::Kernel *k : *m->kernels()) {
    if (!k->launches())
      continue;
    for (const fb::Launch *l : *k->launches()) {
      bool bad = !l->entry() || !l->grid() || !l->block() || !l->args() ||
                 l->grid()->size() != 3 || l->block()->size() != 3;
      for (size_t i = 0; !bad && i < 3; ++i)
        bad = !l->grid()->Get(i) || !l->block()->Get(i);
      if (!bad)
        for (const fb::LaunchArg *a : *l->args())
          bad |= a->kind() == fb::LaunchArgKind::Buffer
                     ? !a->buffer() || !a->shape() || badBinding(a->buffer(), k->arena_bytes())
                     : a->kind() != fb::LaunchArgKind::Scalar || a->bytes() > 8;
      if (bad) {
        error = "'" + path + "' has a malformed GPU launch";
        return nullptr;
      }
    }
  }
  for (uint32_t step = 0; step < m->plan()->size(); ++step) {
    const fb::Dispatch *d = m->plan()->Get(step);
    if (d->kernel() >= m->kernels()->size() || !d->buffers() || !d->entry() ||
        d->workgroups_entry() >= dimsLength || (d->workgroups_entry() >= 0 && !dynamic)) {
      error = "'" + path + "' has a plan naming a missing kernel";
      return nullptr;
    }
    for (const fb::Binding *b : *d->buffers()) {
      // A slot is only placed for the dispatches of its live range, and a
      // dynamic plan has no static arena.
      bool bad = badBinding(b, m->arena_bytes()) ||
                 (dynamic && b->kind() == fb::BufferKind::Arena);
      if (!bad && b->kind() == fb::BufferKind::Slot) {
        const fb::ArenaSlot *slot = m->slots()->Get(b->index());
        bad = slot->first() > (int64_t)step || slot->last() < (int64_t)step;
      }
      if (bad) {
        error = "'" + path + "' has a plan binding a missing buffer";
        return nullptr;
      }
    }
  }
  if (m->host_steps())
    for (const fb::HostStep *step : *m->host_steps()) {
      bool bad = !step->inputs() || !step->outputs() || !step->op() ||
                 step->op_type() == fb::HostOp::NONE;
      auto check = [&](const fb::HostRef *r) {
        if ((int)r->kind() < 0 || r->kind() > fb::HostValueKind::MAX) {
          bad = true;
          return;
        }
        // (Host steps size their work from the declared shapes: static.)
        switch (r->kind()) {
        case fb::HostValueKind::Input:
          bad |= r->index() >= count(m->inputs()) || isDynamic(m->inputs()->Get(r->index()));
          break;
        case fb::HostValueKind::Output:
          bad |= r->index() >= count(m->outputs()) || isDynamic(m->outputs()->Get(r->index()));
          break;
        case fb::HostValueKind::Value: bad |= r->index() >= m->host_values(); break;
        }
      };
      if (!bad) {
        for (const fb::HostRef *r : *step->inputs())
          check(r);
        for (const fb::HostRef *r : *step->outputs())
          check(r);
      }
      if (bad) {
        error = "'" + path + "' has a host step naming a missing value";
        return nullptr;
      }
    }
  a->manifest_ = m;
  return a;
}

Artifact::~Artifact() {
  if (base_)
    munmap(const_cast<uint8_t *>(base_), size_);
}

struct ArtifactWriter::Checksum {
  XXH3_state_t state;
};

ArtifactWriter::ArtifactWriter(std::string path)
    : out_(std::move(path)), checksum_(std::make_unique<Checksum>()) {
  XXH3_64bits_reset(&checksum_->state);
}

ArtifactWriter::~ArtifactWriter() = default;

bool ArtifactWriter::begin(std::string &error) {
  uint8_t header[kHeaderSize] = {}; // filled in by commit()
  return out_.open(error) && out_.write(header, sizeof(header), error);
}

bool ArtifactWriter::put(const void *data, uint64_t size, std::string &error) {
  XXH3_64bits_update(&checksum_->state, data, size);
  return out_.write(data, size, error);
}

bool ArtifactWriter::pad(std::string &error) {
  static const uint8_t zeros[kAlignment] = {};
  uint64_t n = (kAlignment - out_.size() % kAlignment) % kAlignment;
  return put(zeros, n, error);
}

bool ArtifactWriter::append(const void *data, uint64_t size, fb::Section &out,
                            std::string &error) {
  if (!pad(error))
    return false;
  out = fb::Section(out_.size(), size);
  return put(data, size, error);
}

bool ArtifactWriter::appendFromFile(const std::string &file, uint64_t offset,
                                    uint64_t size, fb::Section &out, std::string &error) {
  return appendFromFiles({FileSlice{file, offset, size}}, out, error);
}

/// Calls `sink(data, n)` with the bytes of each slice in order, 1 MiB at a
/// time.
template <typename Sink>
static bool forEachChunk(const std::vector<FileSlice> &slices, std::string &error, Sink sink) {
  std::vector<char> buf(1 << 20);
  for (const FileSlice &s : slices) {
    int in = ::open(s.file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (in < 0) {
      error = sysError("cannot open weight file '" + s.file + "'");
      return false;
    }
    struct stat st;
    if (::fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(in);
      error = "weight file '" + s.file + "' is not a regular file";
      return false;
    }
    for (uint64_t done = 0; done < s.size;) {
      size_t want = (size_t)std::min<uint64_t>(buf.size(), s.size - done);
      ssize_t n = ::pread(in, buf.data(), want, (off_t)(s.offset + done));
      if (n <= 0) {
        error = "weight file '" + s.file + "' ends before byte " +
                std::to_string(s.offset + s.size);
        ::close(in);
        return false;
      }
      if (!sink(buf.data(), (size_t)n)) {
        ::close(in);
        return false;
      }
      done += (uint64_t)n;
    }
    ::close(in);
  }
  return true;
}

bool readFileSlices(const std::vector<FileSlice> &slices, std::vector<char> &out,
                    std::string &error) {
  out.clear();
  return forEachChunk(slices, error, [&](const char *data, size_t n) {
    out.insert(out.end(), data, data + n);
    return true;
  });
}

bool ArtifactWriter::appendFromFiles(const std::vector<FileSlice> &slices, fb::Section &out,
                                     std::string &error) {
  if (!pad(error))
    return false;
  uint64_t start = out_.size();
  if (!forEachChunk(slices, error, [&](const char *data, size_t n) {
        return put(data, n, error);
      }))
    return false;
  out = fb::Section(start, out_.size() - start);
  return true;
}

bool ArtifactWriter::commit(const uint8_t *manifest, uint64_t size, std::string &error) {
  fb::Section m;
  if (!append(manifest, size, m, error))
    return false;
  uint8_t header[kHeaderSize] = {};
  std::memcpy(header, kMagic, sizeof(kMagic));
  uint32_t version = kFormatVersion;
  std::memcpy(header + 8, &version, 4);
  uint64_t off = m.offset(), len = m.size();
  std::memcpy(header + 16, &off, 8);
  std::memcpy(header + 24, &len, 8);
  uint64_t body = XXH3_64bits_digest(&checksum_->state);
  std::memcpy(header + 32, &body, 8);
  uint64_t self = headerChecksum(header);
  std::memcpy(header + kHeaderSize - 8, &self, 8);
  return out_.writeAt(header, sizeof(header), 0, error) && out_.commit(error);
}

} // namespace kiln::artifact
