/* The per-word loops of building an index, in C: the analyzer's (an ASCII text's terms) and BM25's (term ids).
 *
 * The analyzer's hot path for ASCII text: its words' terms, looked up in the analyzer's cache, in one pass.
 *
 * On ASCII text the analyzer's word pattern is [A-Za-z0-9]+(?:['-][A-Za-z0-9]+)*: runs of letters and digits
 * joined by a single "'" or "-" between two of them. This finds them the same way (greedily, left to right),
 * looks each up in the cache of words already analysed, and adds its terms to the list, as the Python path
 * does (bot/search/analysis.py; tests/test_analysis.py holds the two equal). Words not in the cache make it
 * answer (None, those words): the Python path analyses them, and asks again.
 *
 * A WordTable keeps, for the words of the analyzer's cache it has met, their terms, their parts and which of
 * those start a synonym phrase, under their bytes: a word already met is found without making a str of it or
 * hashing it as Python does (most of the time this took). It reads the analyzer's dict for a word it has not
 * met; its entries are only ever added, never changed, so what it keeps stays true.
 *
 * Python: WordTable(word_cache, phrases).terms(text) -> (terms, found | None) | (None, missing words)
 *   word_cache: dict of word -> (terms, parts), both tuples (Analyzer._known's); phrases: dict whose keys are
 *   the parts that start a phrase. When the text holds such a part, found is (parts, numbers, starts): every
 *   word's parts in order, each part's word number, and where the parts that start a phrase are (the Python
 *   path then compares the phrases there); else None. text: str (ASCII; anything else is refused).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static inline int alnum(Py_UCS1 c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

typedef struct {
    uint64_t hash;
    PyObject *word;  /* owned; NULL: an empty slot. Its bytes are the key. */
    PyObject *terms; /* owned tuple */
    PyObject *parts; /* owned tuple */
    PyObject *starts; /* owned tuple of the parts' positions that start a phrase; NULL: none */
    Py_ssize_t length;
} Slot;

typedef struct {
    PyObject_HEAD PyObject *word_cache, *phrases;
    Slot *slots;
    size_t mask, used;
} WordTable;

static inline uint64_t fnv1a(const Py_UCS1 *c, Py_ssize_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (Py_ssize_t i = 0; i < n; i++) h = (h ^ c[i]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static int table_init(WordTable *self, PyObject *args, PyObject *kwargs) {
    PyObject *word_cache, *phrases;
    if (!PyArg_ParseTuple(args, "O!O!", &PyDict_Type, &word_cache, &PyDict_Type, &phrases)) return -1;
    if (self->slots != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "a WordTable is made once");
        return -1;
    }
    self->slots = PyMem_Calloc(1 << 12, sizeof(Slot));
    if (self->slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->mask = (1 << 12) - 1, self->used = 0;
    Py_INCREF(word_cache);
    Py_INCREF(phrases);
    self->word_cache = word_cache, self->phrases = phrases;
    return 0;
}

static void table_dealloc(WordTable *self) {
    if (self->slots != NULL) {
        for (size_t i = 0; i <= self->mask; i++) {
            Py_XDECREF(self->slots[i].word);
            Py_XDECREF(self->slots[i].terms);
            Py_XDECREF(self->slots[i].parts);
            Py_XDECREF(self->slots[i].starts);
        }
        PyMem_Free(self->slots);
    }
    Py_XDECREF(self->word_cache);
    Py_XDECREF(self->phrases);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int table_grow(WordTable *self) {
    size_t cap = (self->mask + 1) * 2;
    Slot *slots = PyMem_Calloc(cap, sizeof(Slot));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i <= self->mask; i++) {
        if (self->slots[i].word == NULL) continue;
        size_t j = self->slots[i].hash & (cap - 1);
        while (slots[j].word != NULL) j = (j + 1) & (cap - 1);
        slots[j] = self->slots[i];
    }
    PyMem_Free(self->slots);
    self->slots = slots, self->mask = cap - 1;
    return 0;
}

/* The slot of the word c[0:n], found or made from the analyzer's dict; NULL with no error: not analysed yet. */
static Slot *table_find(WordTable *self, const Py_UCS1 *c, Py_ssize_t n, PyObject **made) {
    uint64_t h = fnv1a(c, n);
    size_t i = h & self->mask;
    for (Slot *s = &self->slots[i]; s->word != NULL; i = (i + 1) & self->mask, s = &self->slots[i]) {
        if (s->hash == h && s->length == n && memcmp(PyUnicode_1BYTE_DATA(s->word), c, n) == 0) return s;
    }
    PyObject *word = PyUnicode_FromStringAndSize((const char *)c, n);
    if (word == NULL) return NULL;
    PyObject *known = PyDict_GetItemWithError(self->word_cache, word); /* borrowed */
    if (known == NULL) {
        if (PyErr_Occurred()) {
            Py_DECREF(word);
            return NULL;
        }
        *made = word; /* the caller's: a word to analyse */
        return NULL;
    }
    PyObject *terms, *parts;
    if (!PyTuple_Check(known) || PyTuple_GET_SIZE(known) != 2 || !PyTuple_Check(terms = PyTuple_GET_ITEM(known, 0)) ||
        !PyTuple_Check(parts = PyTuple_GET_ITEM(known, 1))) {
        Py_DECREF(word);
        PyErr_SetString(PyExc_TypeError, "word_cache must map words to (terms, parts) tuples");
        return NULL;
    }
    PyObject *starts = NULL;
    for (Py_ssize_t k = 0, np = PyTuple_GET_SIZE(parts); k < np; k++) {
        int held = PyDict_Contains(self->phrases, PyTuple_GET_ITEM(parts, k));
        PyObject *position = held > 0 ? PyLong_FromSsize_t(k) : NULL;
        if (held < 0 || (held > 0 && (position == NULL || (starts == NULL && (starts = PyList_New(0)) == NULL) ||
                                      PyList_Append(starts, position) < 0))) {
            Py_XDECREF(position);
            Py_XDECREF(starts);
            Py_DECREF(word);
            return NULL;
        }
        Py_XDECREF(position);
    }
    if (starts != NULL) {
        PyObject *kept = PyList_AsTuple(starts);
        Py_DECREF(starts);
        if (kept == NULL) {
            Py_DECREF(word);
            return NULL;
        }
        starts = kept;
    }
    if ((self->used + 1) * 2 > self->mask + 1) {
        if (table_grow(self) < 0) {
            Py_XDECREF(starts);
            Py_DECREF(word);
            return NULL;
        }
        i = h & self->mask;
        while (self->slots[i].word != NULL) i = (i + 1) & self->mask;
    }
    Py_INCREF(terms);
    Py_INCREF(parts);
    Slot *s = &self->slots[i];
    s->hash = h, s->word = word, s->terms = terms, s->parts = parts, s->starts = starts, s->length = n;
    self->used++;
    return s;
}

static PyObject *table_terms(WordTable *self, PyObject *args) {
    PyObject *text;
    if (!PyArg_ParseTuple(args, "U", &text)) return NULL;
    if (!PyUnicode_IS_ASCII(text)) {
        PyErr_SetString(PyExc_ValueError, "WordTable.terms reads ASCII text only");
        return NULL;
    }
    const Py_UCS1 *c = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), i = 0, count = 0, room = 64;
    int phrase = 0;
    Slot *met = PyMem_Malloc(room * sizeof(Slot)); /* the words' slots, copied (the table may grow) */
    PyObject *out = PyList_New(0), *missing = NULL;
    if (met == NULL || out == NULL) {
        if (met == NULL) PyErr_NoMemory();
        goto fail;
    }
    while (i < n) {
        if (!alnum(c[i])) {
            i++;
            continue;
        }
        Py_ssize_t start = i;
        for (;;) {
            while (i < n && alnum(c[i])) i++;
            if (i + 1 < n && (c[i] == '\'' || c[i] == '-') && alnum(c[i + 1])) {
                i++;
                continue;
            }
            break;
        }
        PyObject *made = NULL;
        Slot *s = table_find(self, c + start, i - start, &made);
        if (s == NULL) {
            if (made == NULL) goto fail; /* an error */
            /* a word not analysed yet: the others are only looked for from now on */
            if ((missing == NULL && (missing = PyList_New(0)) == NULL) || PyList_Append(missing, made) < 0) {
                Py_DECREF(made);
                goto fail;
            }
            Py_DECREF(made);
            continue;
        }
        if (missing != NULL) continue;
        phrase |= s->starts != NULL;
        if (count == room) {
            Slot *more = PyMem_Realloc(met, 2 * room * sizeof(Slot));
            if (more == NULL) {
                PyErr_NoMemory();
                goto fail;
            }
            met = more, room *= 2;
        }
        met[count++] = *s; /* its objects are the table's, never removed: borrowed */
        Py_ssize_t k = PyTuple_GET_SIZE(s->terms);
        for (Py_ssize_t j = 0; j < k; j++) {
            if (PyList_Append(out, PyTuple_GET_ITEM(s->terms, j)) < 0) goto fail;
        }
    }
    if (missing != NULL) {
        PyMem_Free(met);
        Py_DECREF(out);
        return Py_BuildValue("(ON)", Py_None, missing);
    }
    if (!phrase) {
        PyMem_Free(met);
        return Py_BuildValue("(NO)", out, Py_None);
    }
    /* the parts of every word, each part's word number, and where the parts that start a phrase are */
    PyObject *parts = PyList_New(0), *numbers = PyList_New(0), *starts = PyList_New(0);
    if (parts == NULL || numbers == NULL || starts == NULL) goto fail_found;
    for (Py_ssize_t j = 0; j < count; j++) {
        Py_ssize_t base = PyList_GET_SIZE(parts), np = PyTuple_GET_SIZE(met[j].parts);
        PyObject *number = PyLong_FromSsize_t(j);
        if (number == NULL) goto fail_found;
        for (Py_ssize_t k = 0; k < np; k++) {
            if (PyList_Append(parts, PyTuple_GET_ITEM(met[j].parts, k)) < 0 || PyList_Append(numbers, number) < 0) {
                Py_DECREF(number);
                goto fail_found;
            }
        }
        Py_DECREF(number);
        if (met[j].starts == NULL) continue;
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(met[j].starts); k++) {
            PyObject *at = PyLong_FromSsize_t(base + PyLong_AsSsize_t(PyTuple_GET_ITEM(met[j].starts, k)));
            if (at == NULL || PyList_Append(starts, at) < 0) {
                Py_XDECREF(at);
                goto fail_found;
            }
            Py_DECREF(at);
        }
    }
    PyMem_Free(met);
    return Py_BuildValue("(N(NNN))", out, parts, numbers, starts);
fail_found:
    Py_XDECREF(parts);
    Py_XDECREF(numbers);
    Py_XDECREF(starts);
fail:
    PyMem_Free(met);
    Py_XDECREF(out);
    Py_XDECREF(missing);
    return NULL;
}

static PyMethodDef table_methods[] = {
    {"terms", (PyCFunction)table_terms, METH_VARARGS, "An ASCII text's terms from the analyzer's cache, or None."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject WordTableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bot.search._words.WordTable",
    .tp_basicsize = sizeof(WordTable),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The analyzer's cached words' terms, kept under their bytes.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)table_init,
    .tp_dealloc = (destructor)table_dealloc,
    .tp_methods = table_methods,
};

/* term_ids(documents) -> (terms, ids): the distinct terms of a list of term lists in first-seen order, and
 * every occurrence's number among them (int64, native byte order): BM25Index.build's vocabulary, found in one
 * pass instead of two (dict.fromkeys, then a lookup of each), as bot/search/bm25.py does without a compiler. */
static PyObject *term_ids(PyObject *self, PyObject *args) {
    PyObject *documents;
    if (!PyArg_ParseTuple(args, "O!", &PyList_Type, &documents)) return NULL;
    Py_ssize_t total = 0, ndocs = PyList_GET_SIZE(documents);
    for (Py_ssize_t d = 0; d < ndocs; d++) {
        PyObject *doc = PyList_GET_ITEM(documents, d);
        if (!PyList_Check(doc)) {
            PyErr_SetString(PyExc_TypeError, "term_ids takes a list of lists of terms");
            return NULL;
        }
        total += PyList_GET_SIZE(doc);
    }
    PyObject *vocab = PyDict_New(), *terms = PyList_New(0);
    PyObject *ids = PyBytes_FromStringAndSize(NULL, total * (Py_ssize_t)sizeof(int64_t));
    if (vocab == NULL || terms == NULL || ids == NULL) goto fail;
    int64_t *out = (int64_t *)PyBytes_AS_STRING(ids);
    Py_ssize_t at = 0;
    for (Py_ssize_t d = 0; d < ndocs; d++) {
        PyObject *doc = PyList_GET_ITEM(documents, d);
        Py_ssize_t k = PyList_GET_SIZE(doc);
        if (at + k > total) {
            PyErr_SetString(PyExc_RuntimeError, "the documents changed while their terms were numbered");
            goto fail;
        }
        for (Py_ssize_t j = 0; j < k; j++) {
            PyObject *term = PyList_GET_ITEM(doc, j);
            PyObject *known = PyDict_GetItemWithError(vocab, term); /* borrowed */
            if (known == NULL) {
                if (PyErr_Occurred()) goto fail;
                known = PyLong_FromSsize_t(PyList_GET_SIZE(terms));
                if (known == NULL) goto fail;
                if (PyDict_SetItem(vocab, term, known) < 0 || PyList_Append(terms, term) < 0) {
                    Py_DECREF(known);
                    goto fail;
                }
                Py_DECREF(known); /* the dict holds it */
            }
            out[at++] = (int64_t)PyLong_AsSsize_t(known);
        }
    }
    Py_DECREF(vocab);
    return Py_BuildValue("(NN)", terms, ids);
fail:
    Py_XDECREF(vocab);
    Py_XDECREF(terms);
    Py_XDECREF(ids);
    return NULL;
}

static PyMethodDef methods[] = {
    {"term_ids", term_ids, METH_VARARGS, "Distinct terms in first-seen order, and each occurrence's number."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_words", NULL, -1, methods};

PyMODINIT_FUNC PyInit__words(void) {
    if (PyType_Ready(&WordTableType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&WordTableType);
    if (PyModule_AddObject(m, "WordTable", (PyObject *)&WordTableType) < 0) {
        Py_DECREF(&WordTableType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
