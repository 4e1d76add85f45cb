/* Exact BM25 top-k over precomputed postings, with MaxScore pruning (Turtle & Flood 1995).
 *
 * A question's distinct terms are ordered by their upper bound (the largest contribution any posting of the
 * term holds, times how often the question repeats it). Once k documents are held, the terms whose bounds
 * add up to no more than the k-th score cannot lift a document on their own: only the other ("essential")
 * terms' postings are walked, and the rest are looked up, by galloping search, for the documents that can
 * still make the top k. A document's score is then added up over the question's terms in the question's
 * order, repeats counting again, exactly as rank_bm25's get_scores adds them, so the floats are the same.
 * Ties go to the lower document number. Bounds are compared with a slack far above rounding error, so the
 * pruning never drops a document that belongs in the top k.
 *
 * Python: topk(docs, weights, terms, occurrences, k) -> (documents, scores, masks, postings read)
 *   docs: int32 buffer, weights: float64 buffer (the postings, in CSR order);
 *   terms: tuple of (lo, hi, bound) per distinct term; occurrences: tuple of distinct-term numbers in the
 *   question's order; masks: per result, bit j set when the document holds distinct term j (at most 64).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TERMS 64

typedef struct {
    double score;
    int32_t doc;
    uint64_t mask;
} Hit;

/* a is worse than b: a lower score, or the same score and a later document */
static inline int worse(const Hit *a, const Hit *b) {
    return a->score < b->score || (a->score == b->score && a->doc > b->doc);
}

static void sift_down(Hit *heap, Py_ssize_t n, Py_ssize_t i) {
    for (;;) {
        Py_ssize_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(&heap[l], &heap[m])) m = l;
        if (r < n && worse(&heap[r], &heap[m])) m = r;
        if (m == i) return;
        Hit t = heap[i]; heap[i] = heap[m]; heap[m] = t;
        i = m;
    }
}

static void sift_up(Hit *heap, Py_ssize_t i) {
    while (i > 0) {
        Py_ssize_t p = (i - 1) / 2;
        if (!worse(&heap[i], &heap[p])) return;
        Hit t = heap[i]; heap[i] = heap[p]; heap[p] = t;
        i = p;
    }
}

static int better_first(const void *x, const void *y) {
    const Hit *a = x, *b = y;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return (a->doc > b->doc) - (a->doc < b->doc);
}

/* first position in [p, hi) whose document is >= d */
static inline Py_ssize_t gallop(const int32_t *docs, Py_ssize_t p, Py_ssize_t hi, int32_t d) {
    if (p >= hi || docs[p] >= d) return p;
    Py_ssize_t step = 1, lo = p;
    while (p + step < hi && docs[p + step] < d) { lo = p + step; step <<= 1; }
    Py_ssize_t top = p + step < hi ? p + step : hi;  /* docs[lo] < d, and docs[top] >= d or top == hi */
    lo += 1;
    while (lo < top) {
        Py_ssize_t mid = lo + (top - lo) / 2;
        if (docs[mid] < d) lo = mid + 1; else top = mid;
    }
    return lo;
}

/* the k-th largest of n values (1 <= k <= n), reordering them */
static double kth_largest(double *v, Py_ssize_t n, Py_ssize_t k) {
    Py_ssize_t lo = 0, hi = n - 1, want = k - 1;
    while (lo < hi) {
        double pivot = v[lo + (hi - lo) / 2];
        Py_ssize_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] > pivot) i++;
            while (v[j] < pivot) j--;
            if (i <= j) { double t = v[i]; v[i] = v[j]; v[j] = t; i++; j--; }
        }
        if (want <= j) hi = j; else if (want >= i) lo = i; else return v[want];
    }
    return v[want];
}

#define SEED_POSTINGS 8192

static PyObject *topk(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer dbuf, wbuf;
    PyObject *terms, *occ;
    Py_ssize_t k;
    if (!PyArg_ParseTuple(args, "y*y*O!O!n", &dbuf, &wbuf, &PyTuple_Type, &terms, &PyTuple_Type, &occ, &k))
        return NULL;
    PyObject *result = NULL;
    Hit *heap = NULL;
    const int32_t *docs = dbuf.buf;
    const double *weights = wbuf.buf;
    Py_ssize_t npost = dbuf.len / (Py_ssize_t)sizeof(int32_t);
    Py_ssize_t m = PyTuple_GET_SIZE(terms), nocc = PyTuple_GET_SIZE(occ);
    Py_ssize_t lo[MAX_TERMS], hi[MAX_TERMS], pos[MAX_TERMS];
    double bound[MAX_TERMS], prefix[MAX_TERMS], present[MAX_TERMS];
    int order[MAX_TERMS], occ_term[1024];
    int pruning = 1;
    if (m > MAX_TERMS || nocc > 1024 || k <= 0 || wbuf.len / (Py_ssize_t)sizeof(double) != npost) {
        PyErr_SetString(PyExc_ValueError, "topk: too many terms, k <= 0, or docs and weights differ in length");
        goto done;
    }
    for (Py_ssize_t t = 0; t < m; t++) {
        PyObject *item = PyTuple_GET_ITEM(terms, t);
        if (!PyArg_ParseTuple(item, "nnd", &lo[t], &hi[t], &bound[t])) goto done;
        if (lo[t] < 0 || hi[t] < lo[t] || hi[t] > npost) {
            PyErr_SetString(PyExc_ValueError, "topk: a term's postings lie outside the arrays");
            goto done;
        }
        if (bound[t] < 0) pruning = 0;  /* a negative idf (rank_bm25's floor can be below zero): walk all */
        pos[t] = lo[t];
        order[t] = (int)t;
    }
    for (Py_ssize_t j = 0; j < nocc; j++) {
        long t = PyLong_AsLong(PyTuple_GET_ITEM(occ, j));
        if (t < 0 || t >= m) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "topk: an occurrence names no term");
            goto done;
        }
        occ_term[j] = (int)t;
    }
    /* ascending bounds: the cheapest terms become non-essential first */
    for (Py_ssize_t i = 1; i < m; i++) {
        int t = order[i];
        Py_ssize_t j = i;
        while (j > 0 && bound[order[j - 1]] > bound[t]) { order[j] = order[j - 1]; j--; }
        order[j] = t;
    }
    double total = 0.0;
    for (Py_ssize_t i = 0; i < m; i++) { total += bound[order[i]]; prefix[i] = total; }
    const double slack = total * 1e-9 + DBL_MIN;
    Py_ssize_t cap = k;
    {
        Py_ssize_t owned = 0;
        for (Py_ssize_t t = 0; t < m; t++) owned += hi[t] - lo[t];
        if (cap > owned) cap = owned;
    }
    heap = PyMem_Malloc(sizeof(Hit) * (size_t)(cap > 0 ? cap : 1));
    if (!heap) { PyErr_NoMemory(); goto done; }
    Py_ssize_t held = 0, read = 0;
    Py_ssize_t first = 0;  /* order[0:first] are non-essential */
    double theta = 0.0;    /* a document needs a score above this: 0 until k are held, then the k-th's */
    /* A head start: k documents of one term score at least that term's k-th largest weight, so the k-th
     * best score is at least that much. Taken a little lower, so a document scoring exactly it survives. */
    double seed = 0.0;
    if (pruning) {
        double *tmp = NULL;
        for (Py_ssize_t t = 0; t < m; t++) {
            Py_ssize_t n = hi[t] - lo[t];
            if (n < k || n > SEED_POSTINGS) continue;
            if (!tmp && !(tmp = PyMem_Malloc(sizeof(double) * SEED_POSTINGS))) { PyErr_NoMemory(); goto done; }
            memcpy(tmp, weights + lo[t], sizeof(double) * (size_t)n);
            double v = kth_largest(tmp, n, k);
            if (v > seed) seed = v;
        }
        PyMem_Free(tmp);
        seed = seed * (1 - 1e-9) - slack;
        if (seed > theta) theta = seed;
        while (first < m && prefix[first] + slack <= theta) first++;
    }

    Py_BEGIN_ALLOW_THREADS
    for (;;) {
        int32_t d = INT32_MAX;
        for (Py_ssize_t i = first; i < m; i++) {
            int t = order[i];
            if (pos[t] < hi[t] && docs[pos[t]] < d) d = docs[pos[t]];
        }
        if (d == INT32_MAX) break;
        double partial = 0.0;
        uint64_t mask = 0;
        for (Py_ssize_t i = first; i < m; i++) {
            int t = order[i];
            if (pos[t] < hi[t] && docs[pos[t]] == d) {
                present[t] = weights[pos[t]];
                pos[t]++;
                read++;
                mask |= (uint64_t)1 << t;
            }
        }
        /* what the essential terms give, each as often as the question says it */
        for (Py_ssize_t j = 0; j < nocc; j++) {
            int t = occ_term[j];
            if (mask >> t & 1) partial += present[t];
        }
        int skip = 0;
        for (Py_ssize_t i = first - 1; i >= 0; i--) {
            int t = order[i];
            if (pruning && partial + prefix[i] + slack <= theta) { skip = 1; break; }
            pos[t] = gallop(docs, pos[t], hi[t], d);
            read++;
            if (pos[t] < hi[t] && docs[pos[t]] == d) {
                present[t] = weights[pos[t]];
                mask |= (uint64_t)1 << t;
                for (Py_ssize_t j = 0; j < nocc; j++)
                    if (occ_term[j] == t) partial += present[t];
            }
        }
        if (skip) continue;
        double s = 0.0;
        for (Py_ssize_t j = 0; j < nocc; j++) {
            int t = occ_term[j];
            if (mask >> t & 1) s += present[t];
        }
        if (held < cap) {
            if (!(s > 0)) continue;
            heap[held].score = s; heap[held].doc = d; heap[held].mask = mask;
            sift_up(heap, held);
            held++;
            if (held < cap) continue;
        } else {
            if (!(s > heap[0].score)) continue;  /* equal: this later document loses the tie */
            heap[0].score = s; heap[0].doc = d; heap[0].mask = mask;
            sift_down(heap, held, 0);
        }
        if (held == k) {
            if (heap[0].score > theta) theta = heap[0].score;
            while (pruning && first < m && prefix[first] + slack <= theta) first++;
        }
    }
    Py_END_ALLOW_THREADS

    qsort(heap, (size_t)held, sizeof(Hit), better_first);
    PyObject *out_docs = PyList_New(held), *out_scores = PyList_New(held), *out_masks = PyList_New(held);
    if (!out_docs || !out_scores || !out_masks) {
        Py_XDECREF(out_docs); Py_XDECREF(out_scores); Py_XDECREF(out_masks);
        goto done;
    }
    for (Py_ssize_t i = 0; i < held; i++) {
        PyList_SET_ITEM(out_docs, i, PyLong_FromLong(heap[i].doc));
        PyList_SET_ITEM(out_scores, i, PyFloat_FromDouble(heap[i].score));
        PyList_SET_ITEM(out_masks, i, PyLong_FromUnsignedLongLong(heap[i].mask));
    }
    result = Py_BuildValue("(NNNn)", out_docs, out_scores, out_masks, read);
done:
    PyMem_Free(heap);
    PyBuffer_Release(&dbuf);
    PyBuffer_Release(&wbuf);
    return result;
}

static PyMethodDef methods[] = {
    {"topk", topk, METH_VARARGS, "Exact BM25 top-k over precomputed postings, with MaxScore pruning."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernel", NULL, -1, methods};

PyMODINIT_FUNC PyInit__kernel(void) { return PyModule_Create(&module); }
