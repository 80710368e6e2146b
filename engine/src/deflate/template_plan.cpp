// template_plan.cpp - TemplatePlan: layout -> optimal LZ77 parse of its constant bytes -> program of ops (RFC 1951 §3.2.5-3.2.6); kernel dispatch; scalar kernel.
// make() is the slow, once-per-layout half: it lays the parts out, finds back-references between
// constant bytes (hash chains, shortest-path parse over fixed-Huffman bit costs: the parse is run
// once per layout, so it can afford what a per-token encoder cannot) and stores the codes of
// every constant run as a ready bit string. specialize() replays that program with some holes'
// bytes known (a batch's shared channel). The program is run per payload by
// template_plan_program.inc.
#include "deflate/template_plan.hpp"
#include "cpu/dispatch.hpp"

#include <atomic>
#include <cassert>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "cpu/cpu.hpp"
#include "deflate/compress_fast_kernels.hpp"
#include "deflate/template_plan_kernels.hpp"

namespace mintlane::deflate {
namespace plan {

#include "deflate/template_plan_program.inc"

namespace {

// The specification of literal coding: one table lookup per byte, six codes (<= 54 bits, with
// <= 7 bits pending after a flush) per bit-buffer flush.
struct ScalarCoder {
  template <bool kChecked>
  [[gnu::always_inline]] static void literals(BitWriter& w, Adler& a, const std::uint8_t* p, std::size_t n) noexcept {
    std::uint64_t s1 = a.s1, s2 = a.s2;
    std::size_t i = 0;
    for (; n - i >= 6; i += 6) {
      for (std::size_t k = 0; k < 6; ++k) {
        const fixed::Code c = fixed::kLiterals.code[p[i + k]];
        w.put(c.bits, c.len);
        s1 += p[i + k];
        s2 += s1;
      }
      flush<kChecked>(w);
    }
    for (; i < n; ++i) {  // at most five codes
      const fixed::Code c = fixed::kLiterals.code[p[i]];
      w.put(c.bits, c.len);
      s1 += p[i];
      s2 += s1;
    }
    flush<kChecked>(w);
    a.s1 = s1;
    a.s2 = s2;
  }
};

constexpr Kernel kKernels[] = {
    {"avx2", cpu::kAvx2 | cpu::kBmi2, compress_avx2},
    {"scalar", cpu::kNone, compress_scalar},  // always last: the fallback
};

// Racing first calls pick the same constant table entry; nothing else is published through the
// pointer, so relaxed order suffices.
std::atomic<const Kernel*> g_active{nullptr};

}  // namespace

Result compress_scalar(const TemplatePlan& plan, const std::uint8_t* payload, std::size_t n, std::uint8_t* out,
                       std::size_t cap) noexcept {
  return run_program<ScalarCoder>(plan, payload, n, out, cap);
}

std::span<const Kernel> kernels() noexcept { return kKernels; }

const Kernel& active() noexcept { return cpu::active_kernel(kernels(), g_active); }

bool force(std::string_view name) noexcept { return cpu::force_kernel(kernels(), g_active, name); }

}  // namespace plan

// ---- make(): layout, parse, program ------------------------------------------------------------

namespace {

using Kind = PlanPart::Kind;
using plan::Op;
constexpr std::size_t kNone = PlanPart::kNone;
constexpr std::uint32_t kNoOp = std::numeric_limits<std::uint32_t>::max();

// Search limits of the parse: candidates per position (nearest first), and the search stops at
// the longest possible match. Token layouts (~200 bytes) rarely reach the first (make() takes
// ~5 µs); they bound a layout with a 64 KiB constant string to ~20-25 ms.
constexpr std::size_t kChainLimit = 32;
constexpr unsigned kHashBits = 15;
// Costs are in 1/16 bit. A back-reference across a length-prefixed hole costs the program a few
// ns per payload (its distance is computed then), so it must save more than a bit to be taken.
constexpr std::uint64_t kUnit = 16;
constexpr std::uint64_t kDynamicPenalty = 16;

bool is_prefixed(Op::Kind k) { return k == Op::Kind::kPrefixedLiterals || k == Op::Kind::kRepeatPrefixed; }

// One part after normalisation (adjacent constants merged, empty parts dropped), with its place in
// the virtual payload: prefixed holes count as 2 + their usual length there.
struct Item {
  Kind kind;
  std::string bytes;    // kConstant
  std::size_t len;      // kFixedHole: bytes; kLengthPrefixedHole: usual value length
  std::size_t same_as;  // index into items, or kNone
  std::size_t vstart = 0, vlen = 0;
  std::size_t seg = 0, seg_off = 0;  // segment, and offset inside it (fixed in every payload)
};

// item_of[k]: the item of hole part k (kNone for constants and dropped holes).
std::vector<Item> normalize(const std::vector<PlanPart>& parts, std::vector<std::size_t>& item_of) {
  constexpr std::size_t kMax = std::numeric_limits<std::uint32_t>::max();
  std::vector<Item> items;
  item_of.assign(parts.size(), kNone);
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const PlanPart& p = parts[k];
    if (p.bytes.size() >= kMax || (p.kind == Kind::kFixedHole && p.length >= kMax))
      throw std::invalid_argument("TemplatePlan: part " + std::to_string(k) + " is 2^32 bytes or longer");
    if (p.kind != Kind::kConstant && p.same_as != kNone) {
      const bool ok = p.same_as < k && parts[p.same_as].kind == p.kind &&
                      (p.kind != Kind::kFixedHole || parts[p.same_as].length == p.length);
      if (!ok)
        throw std::invalid_argument("TemplatePlan: part " + std::to_string(k) + " has same_as " +
                                    std::to_string(p.same_as) + ", which is not an earlier hole of the same kind and size");
    }
    switch (p.kind) {
      case Kind::kConstant:
        if (p.bytes.empty()) break;
        if (!items.empty() && items.back().kind == Kind::kConstant)
          items.back().bytes += p.bytes;
        else
          items.push_back({Kind::kConstant, p.bytes, 0, kNone});
        break;
      case Kind::kFixedHole:
        if (p.length == 0) break;
        items.push_back({Kind::kFixedHole, {}, p.length, p.same_as == kNone ? kNone : item_of[p.same_as]});
        item_of[k] = items.size() - 1;
        break;
      case Kind::kLengthPrefixedHole:
        items.push_back({Kind::kLengthPrefixedHole, {}, p.length < 65535 ? p.length : 65535,
                         p.same_as == kNone ? kNone : item_of[p.same_as]});
        item_of[k] = items.size() - 1;
        break;
    }
  }
  std::size_t v = 0, seg = 0, seg_start = 0;
  for (Item& it : items) {
    it.vstart = v;
    it.vlen = it.kind == Kind::kConstant ? it.bytes.size() : it.kind == Kind::kFixedHole ? it.len : 2 + it.len;
    it.seg = seg;
    it.seg_off = v - seg_start;
    v += it.vlen;
    if (it.kind == Kind::kLengthPrefixedHole) {  // what follows moves with this hole's length
      ++seg;
      seg_start = v;
    }
  }
  return items;
}

// Adler-32 contribution of constant bytes c[0..m) (see plan::Op).
void adler_terms(const char* c, std::size_t m, Op& op) {
  constexpr std::uint64_t kMod = 65521;
  std::uint64_t sum = 0, weighted = 0;
  for (std::size_t k = 0; k < m; ++k) {
    const std::uint64_t b = static_cast<unsigned char>(c[k]);
    sum = (sum + b) % kMod;
    weighted = (weighted + ((m - k) % kMod) * b) % kMod;
  }
  op.adler_sum = static_cast<std::uint32_t>(sum);
  op.adler_weighted = static_cast<std::uint32_t>(weighted);
  op.bytes_mod = static_cast<std::uint32_t>(m % kMod);
}

// An LSB-first bit string in 64-bit words.
struct BitString {
  std::vector<std::uint64_t> words;
  std::size_t nbits = 0;
  void put(std::uint64_t bits, unsigned len) {  // len <= 32, no bits above len
    if (len == 0) return;
    const std::size_t off = nbits % 64;
    if (off == 0) words.push_back(0);
    words.back() |= bits << off;
    if (off + len > 64) words.push_back(bits >> (64 - off));
    nbits += len;
  }
  void append(const std::uint64_t* w, std::size_t n) {
    for (std::size_t k = 0; n != 0; ++k) {
      const unsigned take = n < 32 ? static_cast<unsigned>(n) : 32;
      put((w[k / 2] >> (32 * (k & 1))) & ((std::uint64_t{1} << take) - 1), take);
      n -= take;
    }
  }
};

// Accumulates a program: a bit string for the constant bytes between two per-payload ops, closed
// into a kBits op whenever such an op is pushed.
class ProgramBuilder {
 public:
  explicit ProgramBuilder(TemplatePlan::Program& p) : p_(p) {}

  void put(std::uint64_t bits, unsigned len) { cur_.put(bits, len); }
  void put(fixed::Code c) { cur_.put(c.bits, c.len); }
  void append_bits(const std::uint64_t* w, std::size_t nbits) { cur_.append(w, nbits); }
  // Payload bytes the current bit string stands for (for Adler-32 and the debug check).
  void covers(const char* b, std::size_t n) { p_.constants.append(b, n); }
  void literals(std::string_view b) {
    for (const char c : b) put(fixed::kLiterals.code[static_cast<unsigned char>(c)]);
    covers(b.data(), b.size());
  }
  // A kMatch op for constant bytes b[0..op.bytes).
  std::uint32_t push_match(Op op, const char* b) {
    close_bits();
    op.at = static_cast<std::uint32_t>(p_.constants.size());
    covers(b, op.bytes);
    adler_terms(b, op.bytes, op);
    cur_at_ = p_.constants.size();
    return push_op(op);
  }
  // An op that reads the payload (a hole).
  std::uint32_t push_hole(const Op& op) {
    close_bits();
    return push_op(op);
  }
  // Ends the program: the bounds (Op::rest, the plan's totals).
  void finish() {
    close_bits();
    p_.constant_bits = 0;
    p_.constant_bytes = 0;
    std::size_t need = 0;  // bytes the ops after this one take at least
    for (auto op = p_.ops.rbegin(); op != p_.ops.rend(); ++op) {
      if (is_prefixed(op->kind)) op->rest = static_cast<std::uint32_t>(need);
      need += is_prefixed(op->kind) ? 2 : op->bytes;
      if (need > std::numeric_limits<std::uint32_t>::max())
        throw std::invalid_argument("TemplatePlan: the layout's fixed bytes add up to 2^32 or more");
      if (op->kind == Op::Kind::kBits) {
        p_.constant_bits += op->nbits;
        p_.constant_bytes += op->bytes;
      }
    }
    p_.min_payload = need;
  }

 private:
  void close_bits() {
    const std::size_t bytes = p_.constants.size() - cur_at_;
    if (cur_.nbits == 0 && bytes == 0) return;
    if (cur_.nbits > std::numeric_limits<std::uint32_t>::max() - 64)
      throw std::invalid_argument("TemplatePlan: a constant run is too long");
    Op op;
    op.kind = Op::Kind::kBits;
    op.bytes = static_cast<std::uint32_t>(bytes);
    op.word = static_cast<std::uint32_t>(p_.words.size());
    op.nbits = static_cast<std::uint32_t>(cur_.nbits);
    op.at = static_cast<std::uint32_t>(cur_at_);
    adler_terms(p_.constants.data() + cur_at_, bytes, op);
    if (cur_.words.empty()) cur_.words.push_back(0);  // the program always reads one word
    p_.words.insert(p_.words.end(), cur_.words.begin(), cur_.words.end());
    push_op(op);
    cur_ = BitString{};
    cur_at_ = p_.constants.size();
  }
  std::uint32_t push_op(const Op& op) {
    p_.ops.push_back(op);
    return static_cast<std::uint32_t>(p_.ops.size() - 1);
  }

  TemplatePlan::Program& p_;
  BitString cur_;
  std::size_t cur_at_ = 0;  // offset in constants where the current bit string's bytes begin
};

// A candidate source for the position being parsed: the nearest one reaching each new length.
struct Candidate {
  std::uint32_t len;
  std::size_t from;  // virtual position
};

struct Choice {
  std::uint32_t len = 0;  // 0: literal
  std::size_t from = 0;
};

class Compiler {
 public:
  explicit Compiler(std::vector<Item> items) : items_(std::move(items)) {
    std::size_t total = 0;
    for (const Item& it : items_) total += it.vlen;
    val_.assign(total, -1);
    seg_.assign(total, 0);
    for (const Item& it : items_) {
      if (seg_start_.size() <= it.seg) seg_start_.resize(it.seg + 1, 0);
      seg_start_[it.seg] = it.vstart - it.seg_off;  // the same for every item of the segment
      for (std::size_t k = 0; k < it.vlen; ++k) {
        seg_[it.vstart + k] = it.seg;
        if (it.kind == Kind::kConstant) val_[it.vstart + k] = static_cast<unsigned char>(it.bytes[k]);
      }
    }
    head_.assign(std::size_t{1} << kHashBits, kNone);
    prev_.assign(total, kNone);
  }

  // op_of_item[t]: the op of hole item t.
  void compile(TemplatePlan::Program& program, std::vector<std::uint32_t>& op_of_item) {
    ProgramBuilder b(program);
    b.put(0x0178, 16);  // zlib header 78 01: deflate, 32 KiB window, FLEVEL 0, FCHECK
    b.put(0b011, 3);    // BFINAL = 1, BTYPE = 01 (fixed Huffman)
    op_of_item.assign(items_.size(), kNoOp);
    for (std::size_t t = 0; t < items_.size(); ++t) {
      const Item& it = items_[t];
      if (it.kind == Kind::kConstant) {
        constant_item(it, b);
        continue;
      }
      Op op;
      const Item* src = it.same_as != kNone ? &items_[it.same_as] : nullptr;
      if (src != nullptr && src->seg >= plan::kMaxSegments) src = nullptr;  // its start is not recorded
      const bool prefixed = it.kind == Kind::kLengthPrefixedHole;
      if (src != nullptr) {
        op.kind = prefixed ? Op::Kind::kRepeatPrefixed : Op::Kind::kRepeatFixed;
        op.src_seg = static_cast<std::uint8_t>(src->seg);
        op.src = static_cast<std::uint32_t>(src->seg_off);
      } else {
        op.kind = prefixed ? Op::Kind::kPrefixedLiterals : Op::Kind::kLiterals;
      }
      if (prefixed)
        op.next_seg = static_cast<std::uint8_t>(it.seg + 1 < 255 ? it.seg + 1 : 255);
      else
        op.bytes = static_cast<std::uint32_t>(it.len);
      op_of_item[t] = b.push_hole(op);
    }
    b.put(fixed::kEndOfBlock);
    b.finish();
  }

 private:
  std::uint32_t hash3(std::size_t i) const {
    const std::uint32_t key = static_cast<std::uint32_t>(val_[i]) | static_cast<std::uint32_t>(val_[i + 1]) << 8 |
                              static_cast<std::uint32_t>(val_[i + 2]) << 16;
    return (key * 2654435761u) >> (32 - kHashBits);
  }

  // The nearest source for every length reachable from target i (inside [.., end)).
  void candidates(std::size_t i, std::size_t end, std::vector<Candidate>& out) const {
    const std::size_t max_len = end - i < fixed::kMaxMatch ? end - i : fixed::kMaxMatch;
    std::size_t best = 2, seen = 0;
    for (std::size_t j = head_[hash3(i)]; j != kNone && seen < kChainLimit; j = prev_[j], ++seen) {
      if (i - j > fixed::kWindow) break;  // the chain runs nearest first
      if (seg_[j] != seg_[i] && seg_[j] >= plan::kMaxSegments) continue;
      std::size_t len = 0;
      while (len < max_len && val_[j + len] == val_[i + len]) ++len;  // an unknown byte (-1) never equals
      if (len > best) {
        out.push_back({static_cast<std::uint32_t>(len), j});
        best = len;
        if (len == max_len) break;
      }
    }
  }

  std::uint64_t match_cost(std::size_t i, std::size_t from, std::size_t len) const {
    const std::uint64_t dist_bits = fixed::distance_code(static_cast<std::uint32_t>(i - from)).len;
    return (fixed::kLengths.code[len].len + dist_bits) * kUnit + (seg_[from] != seg_[i] ? kDynamicPenalty : 0);
  }

  void constant_item(const Item& it, ProgramBuilder& b) {
    const std::size_t vs = it.vstart, m = it.vlen;
    // Candidates of every position (sources: any earlier constant byte, this item's included).
    std::vector<std::size_t> first(m + 1);
    std::vector<Candidate> cands;
    for (std::size_t k = 0; k < m; ++k) {
      first[k] = cands.size();
      if (k + 3 <= m) {
        candidates(vs + k, vs + m, cands);
        const std::uint32_t h = hash3(vs + k);
        prev_[vs + k] = head_[h];
        head_[h] = vs + k;
      }
    }
    first[m] = cands.size();
    // Shortest path from the end: the cheapest coding of bytes k..m-1. For each length the
    // nearest source is the cheapest (distance codes never get shorter with the distance).
    std::vector<std::uint64_t> cost(m + 1, 0);
    std::vector<Choice> choice(m);
    for (std::size_t k = m; k-- > 0;) {
      const std::uint64_t lit = fixed::kLiterals.code[static_cast<unsigned char>(it.bytes[k])].len * kUnit;
      std::uint64_t best = lit + cost[k + 1];
      Choice c;
      std::size_t prev_len = 2;
      for (std::size_t q = first[k]; q < first[k + 1]; ++q) {
        for (std::size_t len = prev_len + 1; len <= cands[q].len; ++len) {
          const std::uint64_t v = match_cost(vs + k, cands[q].from, len) + cost[k + len];
          if (v < best) {
            best = v;
            c = {static_cast<std::uint32_t>(len), cands[q].from};
          }
        }
        prev_len = cands[q].len;
      }
      cost[k] = best;
      choice[k] = c;
    }
    // Emit: literals and same-segment references into the bit string, references across a
    // length-prefixed hole as kMatch ops.
    for (std::size_t k = 0; k < m;) {
      const Choice c = choice[k];
      const std::size_t i = vs + k;
      if (c.len == 0) {
        b.literals(std::string_view(it.bytes).substr(k, 1));
        ++k;
        continue;
      }
      if (seg_[c.from] == seg_[i]) {
        b.put(fixed::kLengths.code[c.len]);
        b.put(fixed::distance_code(static_cast<std::uint32_t>(i - c.from)));
        b.covers(it.bytes.data() + k, c.len);
      } else {
        Op op;
        op.kind = Op::Kind::kMatch;
        op.src_seg = static_cast<std::uint8_t>(seg_[c.from]);
        op.src = static_cast<std::uint32_t>(c.from - seg_start_[seg_[c.from]]);
        op.bytes = c.len;
        b.push_match(op, it.bytes.data() + k);
      }
      k += c.len;
    }
  }

  std::vector<Item> items_;
  std::vector<int> val_;            // virtual payload: constant bytes, -1 for hole bytes
  std::vector<std::size_t> seg_;    // segment of each virtual byte
  std::vector<std::size_t> seg_start_;
  std::vector<std::size_t> head_, prev_;  // hash chains over constant 3-byte strings
};

// The codes put_repeat() (template_plan_program.inc) writes for a repeat of len bytes.
void put_repeat_codes(ProgramBuilder& b, std::size_t len, std::uint32_t dist) {
  while (len != 0) {
    std::size_t piece = len;
    if (piece > fixed::kMaxMatch) piece = len - fixed::kMaxMatch >= 3 ? fixed::kMaxMatch : len - 3;
    b.put(fixed::kLengths.code[piece]);
    b.put(fixed::distance_code(dist));
    len -= piece;
  }
}

}  // namespace

TemplatePlan::TemplatePlan() = default;
TemplatePlan::~TemplatePlan() = default;
TemplatePlan::TemplatePlan(TemplatePlan&&) noexcept = default;
TemplatePlan& TemplatePlan::operator=(TemplatePlan&&) noexcept = default;

TemplatePlan TemplatePlan::make(const std::vector<PlanPart>& parts) {
  TemplatePlan p;
  std::vector<std::size_t> item_of;
  std::vector<std::uint32_t> op_of_item;
  Compiler(normalize(parts, item_of)).compile(p.program_, op_of_item);
  p.hole_ops_.assign(parts.size(), kNoOp);
  for (std::size_t k = 0; k < parts.size(); ++k)
    if (item_of[k] != kNone) p.hole_ops_[k] = op_of_item[item_of[k]];
  return p;
}

// Replays the program with the given holes' bytes known: whatever the per-payload ops would do
// with those bytes is done now, in the same order and with the same decisions (a back-reference
// whose distance becomes fixed, the repeat test of two known holes, their literals), so the
// bit stream is the base plan's exactly. Positions are tracked twice: in the base program's
// segments (what its ops refer to) and in the new program's, which only ends a segment at a hole
// whose length is still unknown.
TemplatePlan TemplatePlan::specialize(const std::vector<std::optional<std::string_view>>& values) const {
  if (values.size() != hole_ops_.size())
    throw std::invalid_argument("TemplatePlan::specialize: " + std::to_string(values.size()) + " values for " +
                                std::to_string(hole_ops_.size()) + " parts");
  const std::vector<Op>& ops = program_.ops;
  std::vector<std::string> known(ops.size());  // the hole's bytes (with its length prefix)
  std::vector<bool> is_known(ops.size(), false);
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (!values[k]) continue;
    const std::uint32_t o = hole_ops_[k];
    if (o == kNoOp) throw std::invalid_argument("TemplatePlan::specialize: part " + std::to_string(k) + " is not a hole");
    const std::string_view v = *values[k];
    if (is_prefixed(ops[o].kind)) {
      if (v.size() > 65535) throw std::invalid_argument("TemplatePlan::specialize: value over 65535 bytes");
      known[o] = {static_cast<char>(v.size() & 0xff), static_cast<char>(v.size() >> 8)};
    } else if (v.size() != ops[o].bytes) {
      throw std::invalid_argument("TemplatePlan::specialize: part " + std::to_string(k) + " is a " +
                                  std::to_string(ops[o].bytes) + "-byte hole, the value has " + std::to_string(v.size()));
    }
    known[o] += v;
    is_known[o] = true;
  }

  struct Pos {
    std::size_t seg = 0, off = 0;
  };
  TemplatePlan out;
  ProgramBuilder b(out.program_);
  std::vector<std::uint32_t> new_op(ops.size(), kNoOp);
  Pos base_seg[plan::kMaxSegments];  // where each base segment starts, in new coordinates
  Pos at;                            // current position, new coordinates
  std::size_t seg = 0, off = 0;      // current position, base coordinates
  std::vector<std::pair<Pos, const std::string*>> known_holes;  // base position -> bytes
  const auto source = [&](const Op& op) {
    Pos p = base_seg[op.src_seg];
    p.off += op.src;
    return p;
  };
  const auto bytes_at = [&](Pos base_pos) -> const std::string* {
    for (const auto& [p, bytes] : known_holes)
      if (p.seg == base_pos.seg && p.off == base_pos.off) return bytes;
    return nullptr;
  };
  const auto end_segment = [&](const Op& op, bool still_variable) {
    // A base segment starts after this prefixed hole; in new coordinates only if its length varies.
    if (still_variable) {
      ++at.seg;
      at.off = 0;
    }
    if (op.next_seg < plan::kMaxSegments) base_seg[op.next_seg] = at;
    ++seg;
    off = 0;
  };
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    switch (op.kind) {
      case Op::Kind::kBits:
        b.append_bits(program_.words.data() + op.word, op.nbits);
        b.covers(program_.constants.data() + op.at, op.bytes);
        at.off += op.bytes;
        off += op.bytes;
        break;
      case Op::Kind::kMatch: {
        const Pos src = source(op);
        if (src.seg == at.seg) {  // no hole of unknown length in between: the distance is fixed
          const std::size_t dist = at.off - src.off;
          if (dist <= fixed::kWindow) {
            b.put(fixed::kLengths.code[op.bytes]);
            b.put(fixed::distance_code(static_cast<std::uint32_t>(dist)));
            b.covers(program_.constants.data() + op.at, op.bytes);
          } else {
            b.literals(std::string_view(program_.constants).substr(op.at, op.bytes));
          }
        } else {
          Op o = op;
          o.src_seg = static_cast<std::uint8_t>(src.seg);
          o.src = static_cast<std::uint32_t>(src.off);
          b.push_match(o, program_.constants.data() + op.at);
        }
        at.off += op.bytes;
        off += op.bytes;
        break;
      }
      case Op::Kind::kLiterals:
      case Op::Kind::kPrefixedLiterals:
      case Op::Kind::kRepeatFixed:
      case Op::Kind::kRepeatPrefixed: {
        const bool prefixed = is_prefixed(op.kind);
        const bool repeat = op.kind == Op::Kind::kRepeatFixed || op.kind == Op::Kind::kRepeatPrefixed;
        const Pos src = repeat ? source(op) : Pos{};
        const std::string* src_bytes = repeat ? bytes_at(Pos{op.src_seg, op.src}) : nullptr;
        if (is_known[i] && (!repeat || (src_bytes != nullptr && src.seg == at.seg))) {
          const std::string& v = known[i];
          known_holes.push_back({Pos{seg, off}, &v});
          const std::size_t dist = repeat ? at.off - src.off : 0;
          if (repeat && v == *src_bytes && v.size() >= 3 && dist <= fixed::kWindow) {
            put_repeat_codes(b, v.size(), static_cast<std::uint32_t>(dist));
            b.covers(v.data(), v.size());
          } else {
            b.literals(v);
          }
          at.off += v.size();
          off += v.size();
          if (prefixed) end_segment(op, false);
          break;
        }
        if (is_known[i]) known_holes.push_back({Pos{seg, off}, &known[i]});  // a later repeat may test it
        Op o = op;
        if (repeat) {
          o.src_seg = static_cast<std::uint8_t>(src.seg);
          o.src = static_cast<std::uint32_t>(src.off);
        }
        if (prefixed) o.next_seg = static_cast<std::uint8_t>(at.seg + 1 < 255 ? at.seg + 1 : 255);
        new_op[i] = b.push_hole(o);
        if (prefixed) {
          end_segment(op, true);
        } else {
          at.off += op.bytes;
          off += op.bytes;
        }
        break;
      }
    }
  }
  b.finish();
  out.hole_ops_.assign(hole_ops_.size(), kNoOp);
  for (std::size_t k = 0; k < hole_ops_.size(); ++k)
    if (hole_ops_[k] != kNoOp) out.hole_ops_[k] = new_op[hole_ops_[k]];
  return out;
}

std::span<const plan::Op> TemplatePlan::ops() const noexcept { return program_.ops; }

std::size_t TemplatePlan::max_compressed(std::size_t payload_len) const noexcept {
  // Every payload byte outside the kBits ops costs at most 9 bits: a literal, or a share of a
  // back-reference of >= 3 bytes (<= 31 bits).
  const std::size_t variable = payload_len > program_.constant_bytes ? payload_len - program_.constant_bytes : 0;
  return (program_.constant_bits + 9 * variable + 7) / 8 + 4;
}

Result TemplatePlan::compress(const std::uint8_t* payload, std::size_t n, std::uint8_t* out,
                              std::size_t cap) const noexcept {
  return plan::active().compress(*this, payload, n, out, cap);
}

Result TemplatePlan::compress_with(std::string_view kernel, const std::uint8_t* payload, std::size_t n,
                                   std::uint8_t* out, std::size_t cap) const noexcept {
  for (const plan::Kernel& k : plan::kernels())
    if (kernel == k.name && cpu::supports(k.required)) return k.compress(*this, payload, n, out, cap);
  return {Errc::kInternal, 0};
}

}  // namespace mintlane::deflate
