/* The sentence splitter's loops in C: bot/search/chunking.py's sentence_spans over bot/search/punkt_fast.py.
 *
 * Building an index splits every line of every article into sentences, and the Python loop over punkt's
 * candidates (each ".", "?" or "!" that could end one) was a third of the build. This is the same loop, step for
 * step, on the same text: lines are split at "\n"; a line without ".", "?" or "!" is one sentence (its trailing
 * whitespace left out); in a line with one, each candidate is found as nltk's period_context_re finds it (the
 * mark, then one of its other punctuation or whitespace and the next word), its context (the word before it to
 * the end of what follows it) is looked up in the break decisions already made, and a decision not made yet is
 * asked of Python (FastPunkt._contains_break, nltk's rules); the slices are then realigned as nltk's
 * re_boundary_realignment does (closing quotes and brackets go to the sentence before), and blank ones left out.
 * Python's \s and str.isspace() are the same characters (Py_UNICODE_ISSPACE), so the standard library's patterns
 * and these loops read the same whitespace.
 *
 * What this does not do, it refuses (None), and the Python path runs: a range holding "\x1c" to "\x1f" (the
 * characters nltk's regex engine reads otherwise than the standard library's) or a line longer than long_line
 * (nltk's own steps, under its time limit). tests/test_chunking.py holds the two paths equal.
 *
 * Python: sentence_spans(text, start, end, decided, decide, kept, long_line) -> [(start, end), ...] | None
 *   decided: dict of context -> bool (the decisions kept, shared with the Python path; grown up to `kept`);
 *   decide: context -> bool, for a context not in decided.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    int kind;
    const void *data;
} Text;

static inline Py_UCS4 at(const Text *t, Py_ssize_t i) { return PyUnicode_READ(t->kind, t->data, i); }

static inline int space(Py_UCS4 c) { return Py_UNICODE_ISSPACE(c); }

/* nltk's _re_non_word_chars: punctuation that may follow a candidate directly */
static inline int non_word(Py_UCS4 c) {
    switch (c) {
    case ')': case '"': case ';': case '}': case ']': case '*': case ':': case '@': case '\'': case '(': case '{':
    case '[': case 0x2018: case 0x2019: case 0x201c: case 0x201d: case 0xab: case 0xbb: case '!': case '?':
        return 1;
    default:
        return 0;
    }
}

/* re_boundary_realignment's closing quotes and brackets */
static inline int closing(Py_UCS4 c) {
    switch (c) {
    case '"': case '\'': case ')': case ']': case '}': case 0x2018: case 0x2019: case 0x201c: case 0x201d:
    case 0xab: case 0xbb:
        return 1;
    default:
        return 0;
    }
}

/* nltk's string.whitespace less " ", which _match_potential_end_contexts looks for before a candidate too */
static inline int before_space(Py_UCS4 c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0b || c == 0x0c;
}

typedef struct {
    Py_ssize_t *v;
    Py_ssize_t n, cap;
} Pairs; /* (start, end) pairs, flat */

static int push(Pairs *p, Py_ssize_t a, Py_ssize_t b) {
    if (p->n + 2 > p->cap) {
        Py_ssize_t cap = p->cap ? p->cap * 2 : 64;
        Py_ssize_t *v = PyMem_Realloc(p->v, cap * sizeof(Py_ssize_t));
        if (v == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        p->v = v, p->cap = cap;
    }
    p->v[p->n++] = a;
    p->v[p->n++] = b;
    return 0;
}

/* A candidate at i (text[i] is ".", "?" or "!") in the line ending at e: its lookahead's end (after_tok) and
 * where next_tok starts (-1 when it is punctuation instead); 0 when period_context_re does not match there. */
static int candidate(const Text *t, Py_ssize_t i, Py_ssize_t e, Py_ssize_t *after, Py_ssize_t *next) {
    if (i + 1 >= e) return 0;
    Py_UCS4 c = at(t, i + 1);
    if (non_word(c)) {
        *after = i + 2, *next = -1;
        return 1;
    }
    if (!space(c)) return 0;
    Py_ssize_t j = i + 1;
    while (j < e && space(at(t, j))) j++;
    if (j >= e) return 0;
    Py_ssize_t k = j;
    while (k < e && !space(at(t, k))) k++;
    *after = k, *next = j;
    return 1;
}

/* Whether the context text[a:b] makes a break: kept, else asked of Python and kept while there is room. */
static int decision(PyObject *str, Py_ssize_t a, Py_ssize_t b, PyObject *decided, PyObject *decide, Py_ssize_t kept) {
    PyObject *context = PyUnicode_Substring(str, a, b);
    if (context == NULL) return -1;
    PyObject *known = PyDict_GetItemWithError(decided, context); /* borrowed */
    int breaks;
    if (known != NULL) {
        breaks = PyObject_IsTrue(known);
    } else if (PyErr_Occurred()) {
        breaks = -1;
    } else {
        PyObject *made = PyObject_CallOneArg(decide, context);
        if (made == NULL) {
            breaks = -1;
        } else {
            breaks = PyObject_IsTrue(made);
            if (breaks >= 0 && PyDict_GET_SIZE(decided) < kept) {
                PyObject *value = breaks ? Py_True : Py_False;
                if (PyDict_SetItem(decided, context, value) < 0) breaks = -1;
            }
            Py_DECREF(made);
        }
    }
    Py_DECREF(context);
    return breaks;
}

/* punkt_fast's _slices, then _realigned, for the line text[s:e] (which holds a candidate), into out: the
 * sentences that are not blank. */
static int punkt_line(PyObject *str, const Text *t, Py_ssize_t s, Py_ssize_t e, PyObject *decided, PyObject *decide,
                      Py_ssize_t kept, Pairs *slices, Pairs *out) {
    slices->n = 0;
    Py_ssize_t last_break = s;
    int have_previous = 0;
    Py_ssize_t p_pos = 0, p_after = 0, p_next = -1; /* the previous candidate */
    Py_ssize_t word_start = s, word_end = s;        /* its word: text[word_start:word_end] */
    Py_ssize_t i = s;
    for (;;) {
        /* the next candidate, or none (the end) */
        Py_ssize_t pos = -1, after = 0, next = -1, start = 0;
        for (; i < e; i++) {
            Py_UCS4 c = at(t, i);
            if ((c == '.' || c == '?' || c == '!') && candidate(t, i, e, &after, &next)) {
                pos = i++;
                break;
            }
        }
        if (pos >= 0) {
            Py_ssize_t sp = -1;
            for (Py_ssize_t j = pos - 1; j >= word_end; j--) {
                if (before_space(at(t, j))) {
                    sp = j;
                    break;
                }
            }
            start = sp > word_end ? sp + 1 : word_start; /* nltk's "index 0 is no whitespace" */
        }
        if (have_previous && (pos < 0 || word_end <= start)) {
            int breaks = decision(str, word_start, p_after, decided, decide, kept);
            if (breaks < 0) return -1;
            if (breaks) {
                if (push(slices, last_break, p_pos + 1) < 0) return -1;
                last_break = p_next >= 0 ? p_next : p_pos + 1;
            }
        }
        if (pos < 0) break;
        have_previous = 1, p_pos = pos, p_after = after, p_next = next;
        word_start = start, word_end = pos;
    }
    Py_ssize_t stripped = e;
    while (stripped > s && space(at(t, stripped - 1))) stripped--;
    if (push(slices, last_break, stripped) < 0) return -1;

    /* _realigned */
    Py_ssize_t count = slices->n / 2, realign = 0;
    for (Py_ssize_t k = 0; k < count; k++) {
        Py_ssize_t a = slices->v[2 * k] + realign, b = slices->v[2 * k + 1];
        Py_ssize_t kept_a = -1, kept_b = -1;
        if (k == count - 1) {
            if (a < b) kept_a = a, kept_b = b;
        } else {
            Py_ssize_t ns = slices->v[2 * k + 2], ne = slices->v[2 * k + 3], m_end = -1, q = ns;
            if (ns < ne && closing(at(t, ns))) { /* ["')\]}...]+?(?:\s+|(?=--)|$), lazily */
                q = ns + 1;
                for (;;) {
                    if (q < ne && space(at(t, q))) {
                        m_end = q;
                        while (m_end < ne && space(at(t, m_end))) m_end++;
                        break;
                    }
                    if ((q + 1 < ne && at(t, q) == '-' && at(t, q + 1) == '-') || q == ne) {
                        m_end = q;
                        break;
                    }
                    if (q < ne && closing(at(t, q))) {
                        q++;
                        continue;
                    }
                    break;
                }
            }
            if (m_end >= 0) {
                kept_a = a, kept_b = q; /* the match without its trailing whitespace ends at q */
                realign = m_end - ns;
            } else {
                realign = 0;
                if (a < b) kept_a = a, kept_b = b;
            }
        }
        if (kept_a >= 0 && kept_a < kept_b) { /* sentence_spans leaves blank ones out */
            int blank = 1;
            for (Py_ssize_t j = kept_a; j < kept_b && blank; j++) blank = space(at(t, j));
            if (!blank && push(out, kept_a, kept_b) < 0) return -1;
        }
    }
    return 0;
}

static PyObject *sentence_spans(PyObject *self, PyObject *args) {
    PyObject *str, *decided, *decide;
    Py_ssize_t start, end, kept, long_line;
    if (!PyArg_ParseTuple(args, "UnnO!Onn", &str, &start, &end, &PyDict_Type, &decided, &decide, &kept, &long_line))
        return NULL;
    Text t = {PyUnicode_KIND(str), PyUnicode_DATA(str)};
    Py_ssize_t n = PyUnicode_GET_LENGTH(str);
    if (start < 0 || end > n || start > end) Py_RETURN_NONE; /* the Python path's slicing rules */
    for (Py_ssize_t j = start; j < end; j++) {
        Py_UCS4 c = at(&t, j);
        if (c >= 0x1c && c <= 0x1f) Py_RETURN_NONE; /* nltk's own steps */
    }
    Pairs slices = {NULL, 0, 0}, out = {NULL, 0, 0};
    PyObject *result = NULL;
    Py_ssize_t offset = start;
    while (offset < end) {
        Py_ssize_t stop = offset, marks = 0;
        for (; stop < end; stop++) {
            Py_UCS4 c = at(&t, stop);
            if (c == '\n') break;
            if (c == '.' || c == '?' || c == '!') marks = 1;
        }
        if (stop - offset > long_line) {
            PyMem_Free(slices.v);
            PyMem_Free(out.v);
            Py_RETURN_NONE;
        }
        if (stop > offset) {
            if (marks) {
                if (punkt_line(str, &t, offset, stop, decided, decide, kept, &slices, &out) < 0) goto done;
            } else { /* punkt's one sentence, found without it */
                Py_ssize_t e = stop;
                while (e > offset && space(at(&t, e - 1))) e--;
                if (e > offset && push(&out, offset, e) < 0) goto done;
            }
        }
        offset = stop + 1;
    }
    result = PyList_New(out.n / 2);
    if (result == NULL) goto done;
    for (Py_ssize_t k = 0; k < out.n / 2; k++) {
        PyObject *pair = Py_BuildValue("(nn)", out.v[2 * k], out.v[2 * k + 1]);
        if (pair == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, k, pair);
    }
done:
    PyMem_Free(slices.v);
    PyMem_Free(out.v);
    return result;
}

static PyMethodDef methods[] = {
    {"sentence_spans", sentence_spans, METH_VARARGS, "Sentences of text[start:end] as punkt splits them, or None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_punkt", NULL, -1, methods};

PyMODINIT_FUNC PyInit__punkt(void) { return PyModule_Create(&module); }
