// rnnkit native recurrence kernels (CPU): the hand-written BPTT loops of the
// `general-native` kernel. rnnkit/kernels/native.py compiles this file on first use
// (one library per scalar type, -DRK_SCALAR=float or double) and calls rk_run through
// ctypes; rnnkit/kernels/torch_loops.py holds the same loops as PyTorch ops.
//
// No torch headers: the BLAS gemm functions (MKL's sgemm_/dgemm_ inside
// libtorch_cpu) are handed over once by rk_init, so this file compiles in about
// two seconds. Every array is row-major and batch-first, as the Python side holds it:
//   xp  (B, T, K*U)  input projection, gate blocks in Keras order
//   H   (B, T, U)    hidden state after each step (carried over masked steps)
//   C   (B, T, U)    LSTM cell state after each step
//   G   (B, T, K*U)  gate activations saved for the backward pass
//   A   (B, T, U)    LSTM activation(c_t) / GRU (reset_after) recurrent candidate part
// The batch is split into row blocks, one thread each: rows are independent, so a
// thread runs its whole time loop without synchronising with the others.
//
// One section per cell kind (rnnkit.kernels.CellKind), forward then backward:
//   SIMPLE_RNN        simple_rnn_forward, simple_rnn_backward
//   LSTM              lstm_forward, lstm_backward
//   GRU               gru_forward, gru_backward (reset_after=True)
//   GRU_RESET_BEFORE  gru_reset_before_forward, gru_reset_before_backward
// The Op codes of rk_run are mirrored by native.OPS. rk_run_group runs the recurrences
// of several independent sequences-with-weights (the trials of a stacked fit) in one
// call, their row blocks shared out over the threads.
#ifndef RK_SCALAR
#define RK_SCALAR float
#endif
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>
#ifdef __AVX2__
#include <immintrin.h>
#endif

extern "C" {
typedef void (*sgemm_fn)(const char*, const char*, const int*, const int*, const int*,
                         const float*, const float*, const int*, const float*, const int*,
                         const float*, float*, const int*);
typedef void (*dgemm_fn)(const char*, const char*, const int*, const int*, const int*,
                         const double*, const double*, const int*, const double*, const int*,
                         const double*, double*, const int*);

struct RkArgs {
  int64_t batch, steps, units, gates, threads, act, rec_act, rmask_count;
  const void* xp;
  const void* w_hh;
  const void* b_hh;
  const void* h0;
  const void* c0;
  const uint8_t* valid;
  const void* rmask;
  void* H;
  void* C;
  void* G;
  void* A;
  const void* dH;
  const void* dc_last;
  void* dXP;
  void* dHP;
  void* dh0;
  void* dc0;
  void* dW;  // backward, optional: (blocks, K*U, U) weight-gradient parts, one per row block
};
}

// Elementwise loops read and write separate rows of separate buffers: tell gcc so,
// or it gives up vectorising loops with many pointers and runs them scalar.
#if defined(__GNUC__) && !defined(__clang__)
#define RK_IVDEP _Pragma("GCC ivdep")
#else
#define RK_IVDEP
#endif

static sgemm_fn g_sgemm = nullptr;
static dgemm_fn g_dgemm = nullptr;

// Row-major C (M x N) = A (M x K) . op(B) + beta C, op(B) = B^T (B stored N x K)
// when b_trans, else B (stored K x N). Column-major BLAS sees C^T = op(B)^T A^T.
static void gemm(bool b_trans, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const int M = (int)m, N = (int)n, K = (int)k, LDA = (int)lda, LDB = (int)ldb, LDC = (int)ldc;
  const float one = 1.0f;
  g_sgemm(b_trans ? "T" : "N", "N", &N, &M, &K, &one, b, &LDB, a, &LDA, &beta, c, &LDC);
}

static void gemm(bool b_trans, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda,
                 const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  const int M = (int)m, N = (int)n, K = (int)k, LDA = (int)lda, LDB = (int)ldb, LDC = (int)ldc;
  const double one = 1.0;
  g_dgemm(b_trans ? "T" : "N", "N", &N, &M, &K, &one, b, &LDB, a, &LDA, &beta, c, &LDC);
}

// Row-major C (M x N) = A^T B with A stored K x M (row stride lda), B stored K x N (ldb).
static void gemm_tn(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                    int64_t ldb, float* c, int64_t ldc) {
  const int M = (int)m, N = (int)n, K = (int)k, LDA = (int)lda, LDB = (int)ldb, LDC = (int)ldc;
  const float one = 1.0f, zero = 0.0f;
  g_sgemm("N", "T", &N, &M, &K, &one, b, &LDB, a, &LDA, &zero, c, &LDC);
}

static void gemm_tn(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda,
                    const double* b, int64_t ldb, double* c, int64_t ldc) {
  const int M = (int)m, N = (int)n, K = (int)k, LDA = (int)lda, LDB = (int)ldb, LDC = (int)ldc;
  const double one = 1.0, zero = 0.0;
  g_dgemm("N", "T", &N, &M, &K, &one, b, &LDB, a, &LDA, &zero, c, &LDC);
}

// A block of the recurrent weight as the right operand of row-major products
// out (rows x n) = h (rows x k) . op(W) + beta out, with op(W) = W^T (W stored n x k)
// when trans, else W (stored k x n); ld is W's row stride. (MKL's packed gemm,
// which packs W once per sequence, measured no faster at these sizes.)
template <class T>
struct WeightOp {
  const T* w;
  int64_t ld, n, k, rows;
  bool trans;
  void apply(const T* a, int64_t lda, T beta, T* c, int64_t ldc) const {
    gemm(trans, rows, n, k, a, lda, w, ld, beta, c, ldc);
  }
};

// ------------------------------------------------------------------ math
// float: Cephes-style exp and tanh written so that gcc vectorises the loops;
// double: the C library (exact to an ulp, not vectorised; used for tests).
// exp(x) for float: range reduction x = n ln2 + r, a degree-6 polynomial for e^r,
// then 2^n built in the exponent bits (as 2^(n-1) * 2 so that n = 128 still fits).
// Below -86.9 it returns exp(-86.9) ~ 2e-38 instead of a denormal; from 88.72 inf.
static inline float exp_approx(float x) {
  x = std::min(std::max(x, -86.9f), 88.7228394f);
  float fx = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = x - fx * 0.693359375f;
  r = r + fx * 2.12194440e-4f;
  float z = r * r;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * z + r + 1.0f;
  int32_t bits = ((int32_t)fx + 126) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return y * scale * 2.0f;
}

static inline float tanh_approx(float x) {
  float ax = std::fabs(x);
  float z = x * x;
  float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z +
                  1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
  float big = 1.0f - 2.0f / (exp_approx(2.0f * ax) + 1.0f);
  big = std::copysign(big, x);
  return ax < 0.625f ? small : big;
}

// exp(x) - 1 without the cancellation near 0 (ELU and SELU): Taylor terms there.
static inline float expm1_approx(float x) {
  const float taylor =
      x * (1.0f + x * (0.5f + x * (1.0f / 6 + x * (1.0f / 24 + x * (1.0f / 120 +
      x * (1.0f / 720 + x * (1.0f / 5040)))))));
  return std::fabs(x) < 0.35f ? taylor : exp_approx(x) - 1.0f;
}

static inline double exp_approx(double x) { return std::exp(x); }
static inline double expm1_approx(double x) { return std::expm1(x); }
static inline double tanh_approx(double x) { return std::tanh(x); }

enum Act {
  LINEAR = 0, TANH, SIGMOID, RELU, ELU, SELU, SOFTSIGN, HARD_SIGMOID, RELU6, LEAKY_RELU,
  EXPONENTIAL, HARD_TANH
};

template <class T>
__attribute__((noinline)) static void act_forward(int64_t code, T* x, int64_t n) {
  const T zero = 0, one = 1;
  switch (code) {
    case TANH:
      for (int64_t j = 0; j < n; ++j) x[j] = tanh_approx(x[j]);
      break;
    case SIGMOID:
      for (int64_t j = 0; j < n; ++j) x[j] = one / (one + exp_approx(-x[j]));
      break;
    case RELU:
      for (int64_t j = 0; j < n; ++j) x[j] = x[j] > zero ? x[j] : zero;
      break;
    case ELU:
      for (int64_t j = 0; j < n; ++j) x[j] = x[j] > zero ? x[j] : expm1_approx(x[j]);
      break;
    case SELU: {
      const T scale = (T)1.0507009873554804934193349852946;
      const T alpha = (T)1.6732632423543772848170429916717;
      for (int64_t j = 0; j < n; ++j)
        x[j] = x[j] > zero ? scale * x[j] : scale * alpha * expm1_approx(x[j]);
      break;
    }
    case SOFTSIGN:
      for (int64_t j = 0; j < n; ++j) x[j] = x[j] / (one + std::fabs(x[j]));
      break;
    case HARD_SIGMOID:
      for (int64_t j = 0; j < n; ++j) x[j] = std::min(std::max(x[j] + (T)3, zero), (T)6) / (T)6;
      break;
    case RELU6:
      for (int64_t j = 0; j < n; ++j) x[j] = std::min(std::max(x[j], zero), (T)6);
      break;
    case LEAKY_RELU:
      for (int64_t j = 0; j < n; ++j) x[j] = x[j] > zero ? x[j] : x[j] * (T)0.2;
      break;
    case EXPONENTIAL:
      for (int64_t j = 0; j < n; ++j) x[j] = exp_approx(x[j]);
      break;
    case HARD_TANH:
      for (int64_t j = 0; j < n; ++j) x[j] = std::min(std::max(x[j], -one), one);
      break;
    default:
      break;  // LINEAR
  }
}

// g[j] *= activation'(x_j), written in terms of the output y[j] = activation(x_j).
template <class T>
__attribute__((noinline)) static void act_backward(int64_t code, const T* y, T* g, int64_t n) {
  const T zero = 0, one = 1;
  switch (code) {
    case TANH:
      for (int64_t j = 0; j < n; ++j) g[j] *= one - y[j] * y[j];
      break;
    case SIGMOID:
      for (int64_t j = 0; j < n; ++j) g[j] *= y[j] * (one - y[j]);
      break;
    case RELU:
      for (int64_t j = 0; j < n; ++j) g[j] = y[j] > zero ? g[j] : zero;
      break;
    case ELU:
      for (int64_t j = 0; j < n; ++j) g[j] *= y[j] > zero ? one : y[j] + one;
      break;
    case SELU: {
      const T scale = (T)1.0507009873554804934193349852946;
      const T alpha = (T)1.6732632423543772848170429916717;
      for (int64_t j = 0; j < n; ++j) g[j] *= y[j] > zero ? scale : y[j] + scale * alpha;
      break;
    }
    case SOFTSIGN:
      for (int64_t j = 0; j < n; ++j) {
        T d = one - std::fabs(y[j]);
        g[j] *= d * d;
      }
      break;
    case HARD_SIGMOID:
      for (int64_t j = 0; j < n; ++j) g[j] = (y[j] > zero && y[j] < one) ? g[j] / (T)6 : zero;
      break;
    case RELU6:
      for (int64_t j = 0; j < n; ++j) g[j] = (y[j] > zero && y[j] < (T)6) ? g[j] : zero;
      break;
    case LEAKY_RELU:
      for (int64_t j = 0; j < n; ++j) g[j] *= y[j] > zero ? one : (T)0.2;
      break;
    case EXPONENTIAL:
      for (int64_t j = 0; j < n; ++j) g[j] *= y[j];
      break;
    case HARD_TANH:
      for (int64_t j = 0; j < n; ++j) g[j] = (y[j] > -one && y[j] < one) ? g[j] : zero;
      break;
    default:
      break;  // LINEAR
  }
}

// -------------------------------------------------------------- chunking
// One chunk of batch rows [b0, b1): the pointers and scratch a thread needs.
//
// The rows a step's products need are its valid rows (all rows without a mask).
// select_rows(s) finds them; when they are the block's first rows the products
// read and write the arrays in place, otherwise the rows are gathered into packed
// scratch and the results scattered back, so padding and gaps cost no arithmetic.
template <class T>
struct Chunk {
  const RkArgs& a;
  int64_t b0, b1, rows, B, S, U, KU;
  mutable std::vector<int64_t> idx;  // offsets (from b0) of the selected rows
  mutable int64_t n_live;            // how many rows are selected
  mutable bool in_place = true;      // the selected rows are offsets 0..n_live-1
  mutable std::vector<T> pin, pout, tmp;  // packed operands, rows x KU / rows x U
  Chunk(const RkArgs& args, int64_t lo, int64_t hi)
      : a(args), b0(lo), b1(hi), rows(hi - lo), B(args.batch), S(args.steps), U(args.units),
        KU(args.gates * args.units), n_live(hi - lo) {
    const bool gathers = a.valid != nullptr || a.rmask != nullptr;
    idx.resize(a.valid ? rows : 0);
    pin.resize(gathers ? rows * KU : 0);
    pout.resize(gathers ? rows * KU : 0);
    tmp.resize(a.rmask ? rows * U : 0);
  }

  // Gate rows g0..g1-1 of the recurrent weight as the forward (h . W_g^T, trans)
  // or backward (dz . W_g) operand, for n rows.
  WeightOp<T> weight(int64_t g0, int64_t g1, bool trans, int64_t n) const {
    const T* w = (const T*)a.w_hh + g0 * U * U;
    const int64_t width = (g1 - g0) * U;
    if (trans) return WeightOp<T>{w, U, width, U, n, true};
    return WeightOp<T>{w, U, U, width, n, false};
  }

  // Row (b, s) of a (B, T, width) array.
  template <class P>
  P* at(P* base, int64_t b, int64_t s, int64_t width) const {
    return base + (b * S + s) * width;
  }
  // The state before step s for row b, and the leading dimension of that block.
  const T* prev(const T* hist, const T* init, int64_t b, int64_t s) const {
    return s == 0 ? init + b * U : hist + (b * S + s - 1) * U;
  }
  int64_t prev_ld(int64_t s) const { return s == 0 ? U : S * U; }
  bool valid(int64_t b, int64_t s) const { return a.valid == nullptr || a.valid[b * S + s]; }
  // Recurrent dropout mask of gate g for row b (nullptr when none).
  const T* rmask(int64_t g, int64_t b) const {
    if (a.rmask == nullptr) return nullptr;
    const int64_t slot = a.rmask_count == 1 ? 0 : g;
    return (const T*)a.rmask + (slot * B + b) * U;
  }

  // Select the valid rows of step s for the products that follow.
  void select_rows(int64_t s) const {
    in_place = true;
    if (a.valid == nullptr) {
      n_live = rows;
      return;
    }
    n_live = 0;
    for (int64_t r = 0; r < rows; ++r) {
      if (!a.valid[(b0 + r) * S + s]) continue;
      if (r != n_live) in_place = false;
      idx[n_live++] = r;
    }
  }
  // Offset (from b0) of the i-th selected row.
  int64_t row(int64_t i) const { return in_place ? i : idx[i]; }
  // Zero the saved gates of step s's masked rows: the backward pass's weight
  // gradients read every row of G (and multiply masked rows by 0).
  void clear_gates(T* G, int64_t s) const {
    if (G == nullptr || a.valid == nullptr) return;
    for (int64_t b = b0; b < b1; ++b)
      if (!a.valid[b * S + s]) std::memset(at(G, b, s, KU), 0, KU * sizeof(T));
  }

  // For the selected rows r: out_r = beta out_r + (src_r ⊙ m) . op(W) with W the
  // weight(g0, g1, trans) operand; src row r at src + r lds, out row r at out + r ldo;
  // m the recurrent dropout mask of gate mask_gate (none when mask_gate < 0).
  void product(int64_t g0, int64_t g1, bool trans, const T* src, int64_t lds, int64_t mask_gate,
               T beta, T* out, int64_t ldo) const {
    const int64_t n = n_live;
    if (n == 0) return;
    const int64_t k = trans ? U : (g1 - g0) * U;      // width of a src row
    const int64_t width = trans ? (g1 - g0) * U : U;  // width of an out row
    const bool masked = mask_gate >= 0 && a.rmask != nullptr;
    if (in_place && !masked) {
      weight(g0, g1, trans, n).apply(src, lds, beta, out, ldo);
      return;
    }
    for (int64_t i = 0; i < n; ++i) {  // gather (and mask) the selected rows
      const T* sr = src + row(i) * lds;
      T* p = pin.data() + i * k;
      if (masked) {
        const T* m = rmask(mask_gate, b0 + row(i));
        RK_IVDEP
        for (int64_t j = 0; j < k; ++j) p[j] = sr[j] * m[j];
      } else {
        std::memcpy(p, sr, k * sizeof(T));
      }
    }
    if (in_place) {
      weight(g0, g1, trans, n).apply(pin.data(), k, beta, out, ldo);
      return;
    }
    weight(g0, g1, trans, n).apply(pin.data(), k, (T)0, pout.data(), width);
    for (int64_t i = 0; i < n; ++i) {  // scatter
      T* o = out + idx[i] * ldo;
      const T* p = pout.data() + i * width;
      if (beta == (T)0) {
        std::memcpy(o, p, width * sizeof(T));
      } else {
        RK_IVDEP
        for (int64_t j = 0; j < width; ++j) o[j] += p[j];
      }
    }
  }

  // out[:, 0:(g1-g0)U] = (h ⊙ m_g) U_g^T + beta out for gates g0..g1-1 and the
  // selected rows (h: ld ldh). beta = 1 adds onto an output prefilled with the input
  // projection.
  void project(const T* h, int64_t ldh, int64_t g0, int64_t g1, T* out, int64_t ldo,
               T beta = 0) const {
    if (a.rmask == nullptr || a.rmask_count == 1) {  // no mask or one shared: one product
      product(g0, g1, true, h, ldh, a.rmask ? g0 : -1, beta, out, ldo);
      return;
    }
    for (int64_t g = g0; g < g1; ++g)
      product(g, g + 1, true, h, ldh, g, beta, out + (g - g0) * U, ldo);
  }

  // dh (rows x U) += sum_g (dz_g U_g) ⊙ m_g for gates g0..g1-1 (dz: ld ldz) over the
  // selected rows (the others have dz = 0).
  void project_back(const T* dz, int64_t ldz, int64_t g0, int64_t g1, T* dh) const {
    if (a.rmask == nullptr) {
      product(g0, g1, false, dz, ldz, -1, (T)1, dh, U);
      return;
    }
    const bool shared = a.rmask_count == 1;
    for (int64_t g = g0; g < g1; ++g) {
      if (shared)
        product(g0, g1, false, dz, ldz, -1, (T)0, tmp.data(), U);
      else
        product(g, g + 1, false, dz + (g - g0) * U, ldz, -1, (T)0, tmp.data(), U);
      for (int64_t i = 0; i < n_live; ++i) {
        const int64_t r = row(i);
        const T* m = rmask(g, b0 + r);
        const T* t = tmp.data() + r * U;
        T* d = dh + r * U;
        RK_IVDEP
        for (int64_t j = 0; j < U; ++j) d[j] += t[j] * m[j];
      }
      if (shared) return;
    }
  }
};

// Split the batch into `threads` row blocks and run `body` on each. The blocks run
// as OpenMP threads of torch's own runtime, so BLAS called inside runs on one thread
// (MKL does not nest parallel regions) and the pool is reused from call to call.
template <class F>
static void run_chunks(int64_t batch, int64_t threads, F body) {
  threads = std::max<int64_t>(1, std::min(threads, batch));
#ifdef _OPENMP
  if (threads > 1) {
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int64_t i = 0; i < threads; ++i)
      body(i, batch * i / threads, batch * (i + 1) / threads);
    return;
  }
#endif
  body(0, 0, batch);
}

// ------------------------------------------------------------ SIMPLE_RNN
template <class T>
static void simple_rnn_forward(const Chunk<T>& c) {
  const RkArgs& a = c.a;
  const int64_t U = c.U, S = c.S;
  const T* xp = (const T*)a.xp;
  const T* h0 = (const T*)a.h0;
  T* H = (T*)a.H;
  for (int64_t s = 0; s < S; ++s) {
    c.select_rows(s);
    for (int64_t i = 0; i < c.n_live; ++i) {  // h_t = act(xp_t + h U^T): xp first, gemm adds
      const int64_t b = c.b0 + c.row(i);
      std::memcpy(c.at(H, b, s, U), c.at(xp, b, s, U), U * sizeof(T));
    }
    c.project(c.prev(H, h0, c.b0, s), c.prev_ld(s), 0, 1, c.at(H, c.b0, s, U), S * U, 1);
    for (int64_t b = c.b0; b < c.b1; ++b) {
      T* h = c.at(H, b, s, U);
      if (!c.valid(b, s)) {
        std::memcpy(h, c.prev(H, h0, b, s), U * sizeof(T));
        continue;
      }
      act_forward(a.act, h, U);
    }
  }
}

template <class T>
static void simple_rnn_backward(const Chunk<T>& c) {
  const RkArgs& a = c.a;
  const int64_t U = c.U, S = c.S;
  const T* H = (const T*)a.H;
  const T* dH = (const T*)a.dH;
  T* dXP = (T*)a.dXP;
  std::vector<T> dh(c.rows * U, (T)0);
  for (int64_t s = S - 1; s >= 0; --s) {
    for (int64_t b = c.b0; b < c.b1; ++b) {
      T* d = dh.data() + (b - c.b0) * U;
      const T* g = c.at(dH, b, s, U);
      T* dz = c.at(dXP, b, s, U);
      if (!c.valid(b, s)) {  // state carried: its gradient flows straight through
        RK_IVDEP
        for (int64_t j = 0; j < U; ++j) d[j] += g[j];
        std::memset(dz, 0, U * sizeof(T));
        continue;
      }
      RK_IVDEP
      for (int64_t j = 0; j < U; ++j) {
        dz[j] = d[j] + g[j];
        d[j] = 0;
      }
      act_backward(a.act, c.at(H, b, s, U), dz, U);
    }
    c.select_rows(s);
    c.project_back(c.at(dXP, c.b0, s, U), S * U, 0, 1, dh.data());
  }
  T* dh0 = (T*)a.dh0 + c.b0 * U;
  std::memcpy(dh0, dh.data(), c.rows * U * sizeof(T));
}

// ------------------------------------------------------------------ LSTM
template <class T>
static void lstm_forward(const Chunk<T>& c) {
  const RkArgs& a = c.a;
  const int64_t U = c.U, S = c.S, KU = c.KU;
  const T* xp = (const T*)a.xp;
  const T* h0 = (const T*)a.h0;
  const T* c0 = (const T*)a.c0;
  T* H = (T*)a.H;
  T* C = (T*)a.C;
  T* G = (T*)a.G;
  T* A = (T*)a.A;
  std::vector<T> scratch(G ? 0 : c.rows * KU), act_c(U);
  for (int64_t s = 0; s < S; ++s) {
    T* z0 = G ? c.at(G, c.b0, s, KU) : scratch.data();
    const int64_t ldz = G ? S * KU : KU;
    c.select_rows(s);
    for (int64_t i = 0; i < c.n_live; ++i) {  // z = xp_t + h U^T: xp first, the gemm adds
      const int64_t r = c.row(i);
      std::memcpy(z0 + r * ldz, c.at(xp, c.b0 + r, s, KU), KU * sizeof(T));
    }
    c.project(c.prev(H, h0, c.b0, s), c.prev_ld(s), 0, 4, z0, ldz, 1);
    c.clear_gates(G, s);
    for (int64_t b = c.b0; b < c.b1; ++b) {
      T* h = c.at(H, b, s, U);
      T* cs = c.at(C, b, s, U);
      const T* c_prev = c.prev(C, c0, b, s);
      if (!c.valid(b, s)) {
        std::memcpy(h, c.prev(H, h0, b, s), U * sizeof(T));
        std::memcpy(cs, c_prev, U * sizeof(T));
        continue;
      }
      T* z = z0 + (b - c.b0) * ldz;
      act_forward(a.rec_act, z, 2 * U);          // i, f
      act_forward(a.act, z + 2 * U, U);          // candidate
      act_forward(a.rec_act, z + 3 * U, U);      // o
      const T *i = z, *f = z + U, *g = z + 2 * U, *o = z + 3 * U;
      RK_IVDEP
      for (int64_t j = 0; j < U; ++j) cs[j] = f[j] * c_prev[j] + i[j] * g[j];
      T* ac = A ? c.at(A, b, s, U) : act_c.data();
      std::memcpy(ac, cs, U * sizeof(T));
      act_forward(a.act, ac, U);
      RK_IVDEP
      for (int64_t j = 0; j < U; ++j) h[j] = o[j] * ac[j];
    }
  }
}

template <class T>
static void lstm_backward(const Chunk<T>& c) {
  const RkArgs& a = c.a;
  const int64_t U = c.U, S = c.S, KU = c.KU;
  const T* C = (const T*)a.C;
  const T* c0 = (const T*)a.c0;
  const T* G = (const T*)a.G;
  const T* A = (const T*)a.A;
  const T* dH = (const T*)a.dH;
  T* dXP = (T*)a.dXP;
  std::vector<T> dh(c.rows * U, (T)0), dc(c.rows * U, (T)0);
  std::vector<T> da(U);
  if (a.dc_last) std::memcpy(dc.data(), (const T*)a.dc_last + c.b0 * U, c.rows * U * sizeof(T));
  for (int64_t s = S - 1; s >= 0; --s) {
    for (int64_t b = c.b0; b < c.b1; ++b) {
      T* dhr = dh.data() + (b - c.b0) * U;
      T* dcr = dc.data() + (b - c.b0) * U;
      const T* gh = c.at(dH, b, s, U);
      T* dz = c.at(dXP, b, s, KU);
      if (!c.valid(b, s)) {
        RK_IVDEP
        for (int64_t j = 0; j < U; ++j) dhr[j] += gh[j];
        std::memset(dz, 0, KU * sizeof(T));
        continue;
      }
      const T* z = c.at(G, b, s, KU);
      const T *i = z, *f = z + U, *g = z + 2 * U, *o = z + 3 * U;
      const T* ac = c.at(A, b, s, U);
      const T* c_prev = c.prev(C, c0, b, s);
      T *di = dz, *df = dz + U, *dg = dz + 2 * U, *dout = dz + 3 * U;
      RK_IVDEP
      for (int64_t j = 0; j < U; ++j) {
        const T dhn = dhr[j] + gh[j];
        dout[j] = dhn * ac[j];
        da[j] = dhn * o[j];
      }
      act_backward(a.act, ac, da.data(), U);
      RK_IVDEP
      for (int64_t j = 0; j < U; ++j) {
        const T dcn = dcr[j] + da[j];
        di[j] = dcn * g[j];
        dg[j] = dcn * i[j];
        df[j] = dcn * c_prev[j];
        dcr[j] = dcn * f[j];
        dhr[j] = 0;
      }
      act_backward(a.rec_act, i, di, 2 * U);  // i, f
      act_backward(a.act, g, dg, U);
      act_backward(a.rec_act, o, dout, U);
    }
    c.select_rows(s);
    c.project_back(c.at(dXP, c.b0, s, KU), S * KU, 0, 4, dh.data());
  }
  std::memcpy((T*)a.dh0 + c.b0 * U, dh.data(), c.rows * U * sizeof(T));
  std::memcpy((T*)a.dc0 + c.b0 * U, dc.data(), c.rows * U * sizeof(T));
}

// ------------------------------------------------------------------- GRU
// GRU (reset_after=True): hp = h U^T + b_hh; candidate = act(x_h + r ⊙ hp_h).
template <class T>
static void gru_forward(const Chunk<T>& c) {
  const RkArgs& a = c.a;
  const int64_t U = c.U, S = c.S, KU = c.KU;
  const T* xp = (const T*)a.xp;
  const T* h0 = (const T*)a.h0;
  const T* bias = (const T*)a.b_hh;
  T* H = (T*)a.H;
  T* G = (T*)a.G;
  T* A = (T*)a.A;
  std::vector<T> hp(c.rows * KU), scratch(G ? 0 : KU);
  for (int64_t s = 0; s < S; ++s) {
    c.select_rows(s);
    c.project(c.prev(H, h0, c.b0, s), c.prev_ld(s), 0, 3, hp.data(), KU);
    c.clear_gates(G, s);
    for (int64_t b = c.b0; b < c.b1; ++b) {
      T* h = c.at(H, b, s, U);
      const T* h_prev = c.prev(H, h0, b, s);
      if (!c.valid(b, s)) {
        std::memcpy(h, h_prev, U * sizeof(T));
        continue;
      }
      T* p = hp.data() + (b - c.b0) * KU;
      if (bias)
        RK_IVDEP
        for (int64_t j = 0; j < KU; ++j) p[j] += bias[j];
      const T* x = c.at(xp, b, s, KU);
      T* z = G ? c.at(G, b, s, KU) : scratch.data();
      T *r = z + U, *cand = z + 2 * U;
      RK_IVDEP
      for (int64_t j = 0; j < 2 * U; ++j) z[j] = x[j] + p[j];
      act_forward(a.rec_act, z, 2 * U);  // z, r
      RK_IVDEP
      for (int64_t j = 0; j < U; ++j) cand[j] = x[2 * U + j] + r[j] * p[2 * U + j];
      act_forward(a.act, cand, U);
      if (A) std::memcpy(c.at(A, b, s, U), p + 2 * U, U * sizeof(T));
      RK_IVDEP
      for (int64_t j = 0; j < U; ++j) h[j] = z[j] * h_prev[j] + ((T)1 - z[j]) * cand[j];
    }
  }
}

template <class T>
static void gru_backward(const Chunk<T>& c) {
  const RkArgs& a = c.a;
  const int64_t U = c.U, S = c.S, KU = c.KU;
  const T* H = (const T*)a.H;
  const T* h0 = (const T*)a.h0;
  const T* G = (const T*)a.G;
  const T* A = (const T*)a.A;
  const T* dH = (const T*)a.dH;
  T* dXP = (T*)a.dXP;
  T* dHP = (T*)a.dHP;
  std::vector<T> dh(c.rows * U, (T)0);
  for (int64_t s = S - 1; s >= 0; --s) {
    for (int64_t b = c.b0; b < c.b1; ++b) {
      T* dhr = dh.data() + (b - c.b0) * U;
      const T* gh = c.at(dH, b, s, U);
      T* dx = c.at(dXP, b, s, KU);
      T* dp = c.at(dHP, b, s, KU);
      if (!c.valid(b, s)) {
        RK_IVDEP
        for (int64_t j = 0; j < U; ++j) dhr[j] += gh[j];
        std::memset(dx, 0, KU * sizeof(T));
        std::memset(dp, 0, KU * sizeof(T));
        continue;
      }
      const T* z = c.at(G, b, s, KU);
      const T *r = z + U, *cand = z + 2 * U;
      const T* hh = c.at(A, b, s, U);
      const T* h_prev = c.prev(H, h0, b, s);
      T *dz = dx, *dr = dx + U, *dcand = dx + 2 * U;
      RK_IVDEP
      for (int64_t j = 0; j < U; ++j) {
        const T dhn = dhr[j] + gh[j];
        dz[j] = dhn * (h_prev[j] - cand[j]);
        dcand[j] = dhn * ((T)1 - z[j]);
        dhr[j] = dhn * z[j];
      }
      act_backward(a.act, cand, dcand, U);
      RK_IVDEP
      for (int64_t j = 0; j < U; ++j) dr[j] = dcand[j] * hh[j];
      act_backward(a.rec_act, z, dz, 2 * U);  // z, r
      RK_IVDEP
      for (int64_t j = 0; j < 2 * U; ++j) dp[j] = dx[j];
      RK_IVDEP
      for (int64_t j = 0; j < U; ++j) dp[2 * U + j] = dcand[j] * r[j];
    }
    c.select_rows(s);
    c.project_back(c.at(dHP, c.b0, s, KU), S * KU, 0, 3, dh.data());
  }
  std::memcpy((T*)a.dh0 + c.b0 * U, dh.data(), c.rows * U * sizeof(T));
}

// ------------------------------------------------------ GRU_RESET_BEFORE
// reset_after=False: candidate = act(x_h + (r ⊙ h ⊙ m_h) U_h^T).
template <class T>
static void gru_reset_before_forward(const Chunk<T>& c) {
  const RkArgs& a = c.a;
  const int64_t U = c.U, S = c.S, KU = c.KU;
  const T* xp = (const T*)a.xp;
  const T* h0 = (const T*)a.h0;
  T* H = (T*)a.H;
  T* G = (T*)a.G;
  std::vector<T> hp(c.rows * 2 * U), q(c.rows * U),
      hq(c.rows * U), scratch(G ? 0 : c.rows * KU);
  for (int64_t s = 0; s < S; ++s) {
    c.select_rows(s);
    c.project(c.prev(H, h0, c.b0, s), c.prev_ld(s), 0, 2, hp.data(), 2 * U);
    c.clear_gates(G, s);
    for (int64_t i = 0; i < c.n_live; ++i) {
      const int64_t r0 = c.row(i), b = c.b0 + r0;
      const T* x = c.at(xp, b, s, KU);
      const T* p = hp.data() + r0 * 2 * U;
      T* z = G ? c.at(G, b, s, KU) : scratch.data() + r0 * KU;
      RK_IVDEP
      for (int64_t j = 0; j < 2 * U; ++j) z[j] = x[j] + p[j];
      act_forward(a.rec_act, z, 2 * U);  // z, r
      const T* r = z + U;
      const T* h_prev = c.prev(H, h0, b, s);
      const T* m = c.rmask(2, b);
      T* qr = q.data() + r0 * U;
      if (m)
        RK_IVDEP
        for (int64_t j = 0; j < U; ++j) qr[j] = r[j] * (h_prev[j] * m[j]);
      else
        RK_IVDEP
        for (int64_t j = 0; j < U; ++j) qr[j] = r[j] * h_prev[j];
    }
    c.product(2, 3, true, q.data(), U, -1, (T)0, hq.data(), U);
    for (int64_t b = c.b0; b < c.b1; ++b) {
      const int64_t r0 = b - c.b0;
      T* h = c.at(H, b, s, U);
      const T* h_prev = c.prev(H, h0, b, s);
      if (!c.valid(b, s)) {
        std::memcpy(h, h_prev, U * sizeof(T));
        continue;
      }
      const T* x = c.at(xp, b, s, KU);
      T* z = G ? c.at(G, b, s, KU) : scratch.data() + r0 * KU;
      T* cand = z + 2 * U;
      const T* pq = hq.data() + r0 * U;
      RK_IVDEP
      for (int64_t j = 0; j < U; ++j) cand[j] = x[2 * U + j] + pq[j];
      act_forward(a.act, cand, U);
      RK_IVDEP
      for (int64_t j = 0; j < U; ++j) h[j] = z[j] * h_prev[j] + ((T)1 - z[j]) * cand[j];
    }
  }
}

template <class T>
static void gru_reset_before_backward(const Chunk<T>& c) {
  const RkArgs& a = c.a;
  const int64_t U = c.U, S = c.S, KU = c.KU;
  const T* H = (const T*)a.H;
  const T* h0 = (const T*)a.h0;
  const T* G = (const T*)a.G;
  const T* dH = (const T*)a.dH;
  T* dXP = (T*)a.dXP;
  std::vector<T> dh(c.rows * U, (T)0), dq(c.rows * U);
  for (int64_t s = S - 1; s >= 0; --s) {
    for (int64_t b = c.b0; b < c.b1; ++b) {
      T* dhr = dh.data() + (b - c.b0) * U;
      const T* gh = c.at(dH, b, s, U);
      T* dx = c.at(dXP, b, s, KU);
      if (!c.valid(b, s)) {
        RK_IVDEP
        for (int64_t j = 0; j < U; ++j) dhr[j] += gh[j];
        std::memset(dx, 0, KU * sizeof(T));
        continue;
      }
      const T* z = c.at(G, b, s, KU);
      const T* cand = z + 2 * U;
      const T* h_prev = c.prev(H, h0, b, s);
      T *dz = dx, *dcand = dx + 2 * U;
      RK_IVDEP
      for (int64_t j = 0; j < U; ++j) {
        const T dhn = dhr[j] + gh[j];
        dz[j] = dhn * (h_prev[j] - cand[j]);
        dcand[j] = dhn * ((T)1 - z[j]);
        dhr[j] = dhn * z[j];
      }
      act_backward(a.act, cand, dcand, U);
    }
    // dq = dcand U_h (masked rows have dcand = 0)
    c.select_rows(s);
    c.product(2, 3, false, c.at(dXP, c.b0, s, KU) + 2 * U, S * KU, -1, (T)0, dq.data(), U);
    for (int64_t b = c.b0; b < c.b1; ++b) {
      if (!c.valid(b, s)) continue;
      const int64_t r0 = b - c.b0;
      const T* z = c.at(G, b, s, KU);
      const T* r = z + U;
      const T* h_prev = c.prev(H, h0, b, s);
      const T* m = c.rmask(2, b);
      T* dx = c.at(dXP, b, s, KU);
      T* dr = dx + U;
      T* dhr = dh.data() + r0 * U;
      const T* dqr = dq.data() + r0 * U;
      if (m) {
        RK_IVDEP
        for (int64_t j = 0; j < U; ++j) {
          dr[j] = dqr[j] * (h_prev[j] * m[j]);
          dhr[j] += dqr[j] * r[j] * m[j];
        }
      } else {
        RK_IVDEP
        for (int64_t j = 0; j < U; ++j) {
          dr[j] = dqr[j] * h_prev[j];
          dhr[j] += dqr[j] * r[j];
        }
      }
      act_backward(a.rec_act, z, dx, 2 * U);  // z, r
    }
    c.project_back(c.at(dXP, c.b0, s, KU), S * KU, 0, 2, dh.data());
  }
  std::memcpy((T*)a.dh0 + c.b0 * U, dh.data(), c.rows * U * sizeof(T));
}

// ------------------------------------------------------ weight gradients
// The recurrent weight gradient of one row block, right after its backward loop (its
// buffers still in cache): dU = sum over the block's rows and steps of
// dz_t^T (h_{t-1} ⊙ m), with dz the gradient of the recurrent pre-activations (dHP for
// GRU, else dXP; masked steps have dz = 0), into part `block` of a.dW: the products of
// bptt.weight_gradients, operand for operand (the same BLAS call gives the same bits).
template <class T>
static void weight_gradient(const Chunk<T>& c, int64_t block, bool gru, bool reset_before) {
  const RkArgs& a = c.a;
  const int64_t U = c.U, S = c.S, KU = c.KU, n = c.rows * S;
  const T* H = (const T*)a.H;
  const T* h0 = (const T*)a.h0;
  const T* dz = c.at((const T*)(gru ? a.dHP : a.dXP), c.b0, 0, KU);  // n x KU
  T* dW = (T*)a.dW + block * KU * U;
  std::vector<T> prev(n * U);  // h_{t-1} ⊙ m for each (row, step) of the block
  auto fill = [&](int64_t gate) {  // gate < 0: no mask
    for (int64_t b = c.b0; b < c.b1; ++b) {
      T* p = prev.data() + (b - c.b0) * S * U;
      std::memcpy(p, h0 + b * U, U * sizeof(T));
      if (S > 1) std::memcpy(p + U, c.at(H, b, 0, U), (S - 1) * U * sizeof(T));
      const T* m = gate < 0 ? nullptr : c.rmask(gate, b);
      if (m == nullptr) continue;
      for (int64_t s = 0; s < S; ++s) {
        T* ps = p + s * U;
        RK_IVDEP
        for (int64_t j = 0; j < U; ++j) ps[j] *= m[j];
      }
    }
  };
  const int64_t shared = reset_before ? 2 : a.gates;  // gates that read h_{t-1} U^T
  if (a.rmask == nullptr || a.rmask_count == 1) {
    fill(a.rmask == nullptr ? -1 : 0);
    gemm_tn(shared * U, U, n, dz, KU, prev.data(), U, dW, U);
  } else {
    for (int64_t g = 0; g < shared; ++g) {
      fill(g);
      gemm_tn(U, U, n, dz + g * U, KU, prev.data(), U, dW + g * U * U, U);
    }
  }
  if (reset_before) {  // the candidate reads ((r ⊙ h_{t-1}) ⊙ m_h) U_h^T
    fill(-1);
    const T* G = (const T*)a.G;
    for (int64_t b = c.b0; b < c.b1; ++b) {
      const T* m = c.rmask(2, b);
      for (int64_t s = 0; s < S; ++s) {
        T* ps = prev.data() + ((b - c.b0) * S + s) * U;
        const T* r = c.at(G, b, s, KU) + U;
        RK_IVDEP
        for (int64_t j = 0; j < U; ++j) ps[j] = r[j] * ps[j];
        if (m == nullptr) continue;
        RK_IVDEP
        for (int64_t j = 0; j < U; ++j) ps[j] *= m[j];
      }
    }
    gemm_tn(U, U, n, dz + 2 * U, KU, prev.data(), U, dW + 2 * U * U, U);
  }
}

// ------------------------------------------------------------ dropout masks
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011;
// the generator of cuRAND, JAX and TensorFlow's stateless ops). It is counter-based:
// a number depends only on (key, counter), so any split of the work over threads gives
// the same mask. Counter c = (low, high, 0, 0) of a 64-bit index gives four words.
// The stream is laid out in blocks of 8 counters, word-major: number 32 b + 8 w + l is
// word w of counter 8 b + l (so eight counters in the lanes of a vector store their
// words without a transpose).
static const uint32_t PHILOX_M0 = 0xD2511F53u, PHILOX_M1 = 0xCD9E8D57u;
static const uint32_t PHILOX_W0 = 0x9E3779B9u, PHILOX_W1 = 0xBB67AE85u;

// One counter: out = Philox4x32-10(counter, key).
static void philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
  uint32_t c[4] = {counter[0], counter[1], counter[2], counter[3]};
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = (uint64_t)PHILOX_M0 * c[0];
    const uint64_t p1 = (uint64_t)PHILOX_M1 * c[2];
    const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k0;
    const uint32_t n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k1;
    c[1] = (uint32_t)p1;
    c[3] = (uint32_t)p0;
    c[0] = n0;
    c[2] = n2;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  std::memcpy(out, c, sizeof(c));
}

// Keep factors of the 32 numbers of block b (see dropout_factors).
template <class T>
static void dropout_block(uint64_t b, uint32_t key0, uint32_t key1, uint32_t below, T factor,
                          T out[32]) {
  const uint32_t key[2] = {key0, key1};
  for (int l = 0; l < 8; ++l) {
    const uint64_t index = 8 * b + l;
    const uint32_t counter[4] = {(uint32_t)index, (uint32_t)(index >> 32), 0, 0};
    uint32_t words[4];
    philox4x32_10(counter, key, words);
    for (int w = 0; w < 4; ++w) out[8 * w + l] = (words[w] >> 8) < below ? factor : (T)0;
  }
}

#ifdef __AVX2__
// AVX2, float: the eight counters of a block in the 32-bit lanes of a vector.
// _mm256_mul_epu32 multiplies the even lanes into 64-bit products; the odd lanes,
// shifted down, take a second one.
static inline void mulhilo8(__m256i a, __m256i m, __m256i& hi, __m256i& lo) {
  const __m256i even = _mm256_mul_epu32(a, m);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
  lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

template <>
void dropout_block<float>(uint64_t b, uint32_t key0, uint32_t key1, uint32_t below,
                          float factor, float out[32]) {
  const uint64_t first = 8 * b;
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i c0 = _mm256_add_epi32(_mm256_set1_epi32((int)(uint32_t)first), lanes);
  // first is a multiple of 8, so adding 0..7 never carries into the high word
  __m256i c1 = _mm256_set1_epi32((int)(uint32_t)(first >> 32));
  __m256i c2 = _mm256_setzero_si256(), c3 = _mm256_setzero_si256();
  const __m256i m0 = _mm256_set1_epi32((int)PHILOX_M0), m1 = _mm256_set1_epi32((int)PHILOX_M1);
  uint32_t k0 = key0, k1 = key1;
#pragma GCC unroll 10
  for (int round = 0; round < 10; ++round) {
    __m256i hi0, lo0, hi1, lo1;
    mulhilo8(c0, m0, hi0, lo0);
    mulhilo8(c2, m1, hi1, lo1);
    c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32((int)k0));
    c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32((int)k1));
    c1 = lo1;
    c3 = lo0;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  // (r >> 8) < below, as signed 32-bit compares: both sides are below 2^24 + 1
  const __m256i limit = _mm256_set1_epi32((int)below);
  const __m256 value = _mm256_set1_ps(factor);
  const __m256i words[4] = {c0, c1, c2, c3};
  for (int w = 0; w < 4; ++w) {
    const __m256i kept = _mm256_cmpgt_epi32(limit, _mm256_srli_epi32(words[w], 8));
    _mm256_storeu_ps(out + 8 * w, _mm256_and_ps(_mm256_castsi256_ps(kept), value));
  }
}
#endif

// out[i] = 1/keep where number i is kept, else 0. Number i is kept when its 24-bit
// uniform u = (r_i >> 8) / 2^24 (r_i: number i of the Philox stream of `key`) is below
// keep: the rule of `torch.rand(...) < keep` at float32 resolution.
template <class T>
static void dropout_factors(T* out, int64_t n, double keep, uint64_t key, int64_t threads) {
  const uint32_t key0 = (uint32_t)key, key1 = (uint32_t)(key >> 32);
  const uint32_t below = (uint32_t)std::ceil(keep * 16777216.0);  // u < keep <=> m < below
  const T factor = (T)1 / (T)keep;
  const int64_t blocks = (n + 31) / 32;
  auto body = [&](int64_t, int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      if (32 * (b + 1) <= n) {
        dropout_block<T>((uint64_t)b, key0, key1, below, factor, out + 32 * b);
      } else {  // the last, partial block
        T tail[32];
        dropout_block<T>((uint64_t)b, key0, key1, below, factor, tail);
        std::memcpy(out + 32 * b, tail, (n - 32 * b) * sizeof(T));
      }
    }
  };
  // 4,096 numbers at least per thread: below that a thread costs more than it saves
  run_chunks(blocks, std::min<int64_t>(threads, std::max<int64_t>(1, n / 4096)), body);
}

// ----------------------------------------------------------------- entry
enum Op {
  SIMPLE_RNN_FORWARD = 0, SIMPLE_RNN_BACKWARD, LSTM_FORWARD, LSTM_BACKWARD,
  GRU_FORWARD, GRU_BACKWARD, GRU_RESET_BEFORE_FORWARD, GRU_RESET_BEFORE_BACKWARD
};

// Run op on rows [lo, hi), row block `block`, of the sequences a describes; a backward
// op with a.dW set also writes the block's weight-gradient part.
template <class T>
static void run_block(int64_t op, const RkArgs& a, int64_t block, int64_t lo, int64_t hi) {
  if (hi <= lo) {
    if (a.dW != nullptr && op % 2 == 1)  // an empty block's part is zeros
      std::memset((T*)a.dW + block * a.gates * a.units * a.units, 0,
                  a.gates * a.units * a.units * sizeof(T));
    return;
  }
  Chunk<T> c(a, lo, hi);
  switch (op) {
    case SIMPLE_RNN_FORWARD: simple_rnn_forward(c); break;
    case SIMPLE_RNN_BACKWARD: simple_rnn_backward(c); break;
    case LSTM_FORWARD: lstm_forward(c); break;
    case LSTM_BACKWARD: lstm_backward(c); break;
    case GRU_FORWARD: gru_forward(c); break;
    case GRU_BACKWARD: gru_backward(c); break;
    case GRU_RESET_BEFORE_FORWARD: gru_reset_before_forward(c); break;
    case GRU_RESET_BEFORE_BACKWARD: gru_reset_before_backward(c); break;
    default: break;
  }
  if (a.dW != nullptr && op % 2 == 1)
    weight_gradient(c, block, op == GRU_BACKWARD, op == GRU_RESET_BEFORE_BACKWARD);
}

template <class T>
static void dispatch(int64_t op, const RkArgs& a) {
  run_chunks(a.batch, a.threads,
             [&](int64_t i, int64_t lo, int64_t hi) { run_block<T>(op, a, i, lo, hi); });
}

// A group of independent recurrences (the trials of a stacked fit, each with its own
// weights and sizes): args[i].threads row blocks of recurrence i each, all the blocks
// of all the recurrences shared out over `threads` threads, taken in order (the caller
// lists the costliest first) as threads become free. No thread waits for another
// until the last block is done.
template <class T>
static void dispatch_group(int64_t op, int64_t count, const RkArgs* args, int64_t threads) {
  struct Block {
    int64_t item, index, lo, hi;
  };
  std::vector<Block> blocks;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t batch = args[i].batch;
    const int64_t n = std::max<int64_t>(1, std::min(args[i].threads, batch));
    for (int64_t j = 0; j < n; ++j) blocks.push_back({i, j, batch * j / n, batch * (j + 1) / n});
  }
  const int64_t total = (int64_t)blocks.size();
  threads = std::max<int64_t>(1, std::min(threads, total));
#ifdef _OPENMP
  if (threads > 1) {
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (int64_t b = 0; b < total; ++b)
      run_block<T>(op, args[blocks[b].item], blocks[b].index, blocks[b].lo, blocks[b].hi);
    return;
  }
#endif
  for (const Block& b : blocks) run_block<T>(op, args[b.item], b.index, b.lo, b.hi);
}

extern "C" {
int rk_version() { return 1; }

void rk_init(void* sgemm, void* dgemm) {
  g_sgemm = (sgemm_fn)sgemm;
  g_dgemm = (dgemm_fn)dgemm;
}

// Whether row blocks can run in parallel (built with OpenMP).
int rk_parallel() {
#ifdef _OPENMP
  return 1;
#else
  return 0;
#endif
}

// op: see Op; is_double must match RK_SCALAR. Returns 0 on success.
int rk_run(int64_t op, int64_t is_double, const RkArgs* args) {
  if (g_sgemm == nullptr || g_dgemm == nullptr) return 1;
  if (is_double != (sizeof(RK_SCALAR) == 8)) return 2;
  dispatch<RK_SCALAR>(op, *args);
  return 0;
}

// rk_run for `count` independent recurrences of one op at once, on `threads` threads.
int rk_run_group(int64_t op, int64_t is_double, int64_t count, const RkArgs* args,
                 int64_t threads) {
  if (g_sgemm == nullptr || g_dgemm == nullptr) return 1;
  if (is_double != (sizeof(RK_SCALAR) == 8)) return 2;
  dispatch_group<RK_SCALAR>(op, count, args, threads);
  return 0;
}

// Dropout keep factors of n elements (see dropout_factors); is_double must match
// RK_SCALAR. Returns 0 on success.
int rk_dropout_factors(void* out, int64_t n, double keep, uint64_t key, int64_t is_double,
                       int64_t threads) {
  if (is_double != (sizeof(RK_SCALAR) == 8)) return 2;
  if (!(keep > 0.0 && keep <= 1.0)) return 3;
  dropout_factors<RK_SCALAR>((RK_SCALAR*)out, n, keep, key, threads);
  return 0;
}

// One Philox4x32-10 block: out = philox(counter[4], key[2]) (known-answer tests).
void rk_philox4x32_10(const uint32_t* counter, const uint32_t* key, uint32_t* out) {
  philox4x32_10(counter, key, out);
}
}
