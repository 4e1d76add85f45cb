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
 * Python: ascii_terms(text, word_terms, phrase_words) -> (terms, words | None) | (None, missing words)
 *   text: str (ASCII; anything else is refused); word_terms: dict of word -> tuple of terms;
 *   phrase_words: set of the words with a part that starts a synonym phrase; when the text holds one, its
 *   words are given too (the Python path then looks for the phrases), else None.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

static inline int alnum(Py_UCS1 c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static PyObject *ascii_terms(PyObject *self, PyObject *args) {
    PyObject *text, *word_terms, *phrase_words;
    if (!PyArg_ParseTuple(args, "UO!O", &text, &PyDict_Type, &word_terms, &phrase_words)) return NULL;
    if (!PyAnySet_Check(phrase_words)) {
        PyErr_SetString(PyExc_TypeError, "phrase_words must be a set");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(text)) {
        PyErr_SetString(PyExc_ValueError, "ascii_terms reads ASCII text only");
        return NULL;
    }
    const Py_UCS1 *c = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), i = 0;
    int phrase = 0;
    PyObject *out = PyList_New(0), *words = PyList_New(0), *missing = NULL;
    if (out == NULL || words == NULL) goto fail;
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
        PyObject *word = PyUnicode_FromStringAndSize((const char *)c + start, i - start);
        if (word == NULL) goto fail;
        PyObject *terms = PyDict_GetItemWithError(word_terms, word); /* borrowed */
        if (terms == NULL) { /* a word not analysed yet: the others are only looked for from now on */
            if (PyErr_Occurred() || (missing == NULL && (missing = PyList_New(0)) == NULL) ||
                PyList_Append(missing, word) < 0) {
                Py_DECREF(word);
                goto fail;
            }
            Py_DECREF(word);
            continue;
        }
        if (missing != NULL) {
            Py_DECREF(word);
            continue;
        }
        if (!PyTuple_Check(terms)) {
            Py_DECREF(word);
            PyErr_SetString(PyExc_TypeError, "word_terms must map words to tuples");
            goto fail;
        }
        if (!phrase) {
            int held = PySet_Contains(phrase_words, word);
            if (held < 0) {
                Py_DECREF(word);
                goto fail;
            }
            phrase = held;
        }
        if (PyList_Append(words, word) < 0) {
            Py_DECREF(word);
            goto fail;
        }
        Py_DECREF(word);
        Py_ssize_t k = PyTuple_GET_SIZE(terms);
        for (Py_ssize_t j = 0; j < k; j++) {
            if (PyList_Append(out, PyTuple_GET_ITEM(terms, j)) < 0) goto fail;
        }
    }
    if (missing != NULL) {
        Py_DECREF(out);
        Py_DECREF(words);
        return Py_BuildValue("(ON)", Py_None, missing);
    }
    if (!phrase) {
        Py_DECREF(words);
        return Py_BuildValue("(NO)", out, Py_None);
    }
    return Py_BuildValue("(NN)", out, words);
fail:
    Py_XDECREF(out);
    Py_XDECREF(words);
    Py_XDECREF(missing);
    return NULL;
}

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
    {"ascii_terms", ascii_terms, METH_VARARGS, "An ASCII text's terms from the analyzer's cache, or None."},
    {"term_ids", term_ids, METH_VARARGS, "Distinct terms in first-seen order, and each occurrence's number."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_words", NULL, -1, methods};

PyMODINIT_FUNC PyInit__words(void) { return PyModule_Create(&module); }
