# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The job loop in C: one round trip per job, the GIL released for every client call.

It drives the ``MYSQL*`` inside a MySQLdb connection (``_get_native_connection()``) with C API
functions looked up in the client library MySQLdb itself is linked to (``dlopen`` of
``MySQLdb._mysql`` with ``RTLD_NOLOAD``, then ``dlsym``). So this extension links no MySQL library:
one client library per process, whatever MySQLdb was built against (libmariadb or libmysqlclient).
Only struct-free calls are used, since ``MYSQL_FIELD`` and friends differ between the two; what we
need to know about columns comes from MySQLdb once per table (see ``columns.py``).

Statements, results and errors are the same as in ``_pyloop.py``; read that first.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.exc cimport PyErr_CheckSignals
from cpython.long cimport PyLong_FromString
from cpython.pycapsule cimport PyCapsule_GetPointer
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.unicode cimport PyUnicode_Decode, PyUnicode_DecodeUTF8
from libc.stdlib cimport free, malloc, strtoll
from libc.string cimport strncpy
from posix.dlfcn cimport RTLD_NOW, dlerror, dlopen, dlsym

cdef extern from "<dlfcn.h>" nogil:
    # glibc has had it for decades; Cython's posix/dlfcn.pxd does not declare it
    const int RTLD_NOLOAD

import MySQLdb._mysql as _mysql_module

from .batch import LayoutChanged, WaitReturnedNull, owned_row_missing
from .errors import server_error

# --- the client library's functions (STDCALL is empty on every platform we build for) -----------

ctypedef int (*real_query_f)(void*, const char*, unsigned long) noexcept nogil
ctypedef void* (*store_result_f)(void*) noexcept nogil
ctypedef int (*next_result_f)(void*) noexcept nogil
ctypedef char (*more_results_f)(void*) noexcept nogil
ctypedef char** (*fetch_row_f)(void*) noexcept nogil
ctypedef unsigned long* (*fetch_lengths_f)(void*) noexcept nogil
ctypedef unsigned int (*num_fields_f)(void*) noexcept nogil
ctypedef void (*free_result_f)(void*) noexcept nogil
ctypedef unsigned int (*errno_f)(void*) noexcept nogil
ctypedef const char* (*error_f)(void*) noexcept nogil

cdef real_query_f mysql_real_query
cdef store_result_f mysql_store_result
cdef next_result_f mysql_next_result
cdef more_results_f mysql_more_results
cdef fetch_row_f mysql_fetch_row
cdef fetch_lengths_f mysql_fetch_lengths
cdef num_fields_f mysql_num_fields
cdef free_result_f mysql_free_result
cdef errno_f mysql_errno
cdef error_f mysql_error


cdef void* _symbol(void* library, bytes name) except NULL:
    cdef void* address = dlsym(library, name)
    if address == NULL:
        raise ImportError(f"{name.decode()} not found in MySQLdb's client library")
    return address


def _bind_client_library():
    """Resolve the C API in the library MySQLdb loaded; ImportError if impossible."""
    global mysql_real_query, mysql_store_result, mysql_next_result, mysql_more_results
    global mysql_fetch_row, mysql_fetch_lengths, mysql_num_fields, mysql_free_result
    global mysql_errno, mysql_error
    cdef bytes path = _mysql_module.__file__.encode()
    # RTLD_NOLOAD: only a handle on what is already loaded, never a second copy
    cdef void* library = dlopen(path, RTLD_NOW | RTLD_NOLOAD)
    if library == NULL:
        message = dlerror()
        raise ImportError(f"cannot open MySQLdb's module {path!r}: {message}")
    mysql_real_query = <real_query_f>_symbol(library, b"mysql_real_query")
    mysql_store_result = <store_result_f>_symbol(library, b"mysql_store_result")
    mysql_next_result = <next_result_f>_symbol(library, b"mysql_next_result")
    mysql_more_results = <more_results_f>_symbol(library, b"mysql_more_results")
    mysql_fetch_row = <fetch_row_f>_symbol(library, b"mysql_fetch_row")
    mysql_fetch_lengths = <fetch_lengths_f>_symbol(library, b"mysql_fetch_lengths")
    mysql_num_fields = <num_fields_f>_symbol(library, b"mysql_num_fields")
    mysql_free_result = <free_result_f>_symbol(library, b"mysql_free_result")
    mysql_errno = <errno_f>_symbol(library, b"mysql_errno")
    mysql_error = <error_f>_symbol(library, b"mysql_error")


_bind_client_library()

# --- one round trip, entirely without the GIL -----------------------------------------------------

cdef enum:
    MESSAGE_SIZE = 512

cdef struct Exchange:
    int nresults  # results[0 .. nresults) were stored (NULL for a statement without result set)
    int failed_statement  # index of the statement that failed, or -1
    unsigned int error_number
    char message[MESSAGE_SIZE]
    bint wait_null  # queue_wait returned NULL
    long long wait_value
    char** row  # the owned row, NULL if none
    unsigned long* lengths
    unsigned int nfields


cdef void _record_error(void* mysql, Exchange* x, int statement) noexcept nogil:
    x.failed_statement = statement
    x.error_number = mysql_errno(mysql)
    strncpy(x.message, mysql_error(mysql), MESSAGE_SIZE - 1)
    x.message[MESSAGE_SIZE - 1] = 0


cdef void _exchange(void* mysql, const char* query, unsigned long length, void** results,
                    int nstatements, int wait_statement, const int* spec_table, int nspecs,
                    Exchange* x) noexcept nogil:
    """Send the batch, store every result, pick out queue_wait's value and the owned row."""
    cdef void* result
    cdef int status
    cdef char** wait_row
    x.nresults = 0
    x.failed_statement = -1
    x.wait_null = True
    x.wait_value = 0
    x.row = NULL
    x.nfields = 0
    if mysql_real_query(mysql, query, length) != 0:
        _record_error(mysql, x, 0)
        return
    while True:
        result = mysql_store_result(mysql)
        if result == NULL and mysql_errno(mysql) != 0:
            _record_error(mysql, x, x.nresults)
            break
        if x.nresults < nstatements:
            results[x.nresults] = result
            x.nresults += 1
        elif result != NULL:
            mysql_free_result(result)  # more results than statements: cannot happen; stay clean
        status = mysql_next_result(mysql)
        if status == -1:
            break
        if status > 0:  # the statement failed; the server skipped the rest of the batch
            _record_error(mysql, x, x.nresults)
            break
    # whatever happened, leave nothing unread on the connection ("Commands out of sync")
    while mysql_more_results(mysql):
        if mysql_next_result(mysql) != 0:
            break
        result = mysql_store_result(mysql)
        if result != NULL:
            mysql_free_result(result)
    if x.nresults <= wait_statement or results[wait_statement] == NULL:
        return
    wait_row = mysql_fetch_row(results[wait_statement])
    if wait_row == NULL or wait_row[0] == NULL:
        return
    x.wait_null = False
    x.wait_value = strtoll(wait_row[0], NULL, 10)
    if x.wait_value < 1 or x.wait_value > nspecs:
        return
    cdef int table_statement = wait_statement + 1 + spec_table[x.wait_value - 1]
    if table_statement >= x.nresults or results[table_statement] == NULL:
        return
    x.row = mysql_fetch_row(results[table_statement])
    if x.row != NULL:
        x.lengths = mysql_fetch_lengths(results[table_statement])
        x.nfields = mysql_num_fields(results[table_statement])


cdef void _free_results(void** results, int count) noexcept nogil:
    cdef int i
    for i in range(count):
        if results[i] != NULL:
            mysql_free_result(results[i])
            results[i] = NULL


# --- converting the owned row, as MySQLdb's _mysql_field_to_python does ---------------------------

cdef class _Codec:
    cdef tuple converters
    cdef tuple text_fed
    cdef object row_class
    cdef Py_ssize_t nfields
    cdef bint utf8
    cdef bytes encoding

    def __init__(self, layout):
        self.converters = tuple(layout.converters)
        self.text_fed = tuple(layout.text_fed)
        self.row_class = layout.row_class
        self.nfields = len(layout.names)
        self.utf8 = layout.encoding in ("utf8", "utf-8", "utf8mb4")
        self.encoding = layout.encoding.encode()

    cdef object convert(self, char** row, unsigned long* lengths):
        cdef Py_ssize_t i
        cdef object value, converter
        cdef tuple values = PyTuple_New(self.nfields)
        for i in range(self.nfields):
            if row[i] == NULL:
                value = None
            else:
                converter = self.converters[i]
                if converter is str:
                    if self.utf8:
                        value = PyUnicode_DecodeUTF8(row[i], lengths[i], NULL)
                    else:
                        value = PyUnicode_Decode(row[i], lengths[i], self.encoding, NULL)
                elif converter is bytes or converter is None:
                    value = PyBytes_FromStringAndSize(row[i], lengths[i])
                elif converter is int:
                    value = PyLong_FromString(row[i], NULL, 10)
                elif self.text_fed[i]:
                    value = converter(PyUnicode_DecodeUTF8(row[i], lengths[i], NULL))
                else:
                    value = converter(PyBytes_FromStringAndSize(row[i], lengths[i]))
            Py_INCREF(value)
            PyTuple_SET_ITEM(values, i, value)
        return self.row_class(values)


# --- the loop --------------------------------------------------------------------------------------

cdef class Loop:
    """One round trip per call of :meth:`next`. See ``_pyloop.Loop`` for the contract."""

    cdef object _connection  # keeps the MYSQL struct (inside it) alive
    cdef void* _mysql
    cdef object _batch
    cdef bytes _wait_query
    cdef bytes _abort_query
    cdef tuple _codecs
    cdef int _ntables
    cdef int _nspecs
    cdef int* _spec_table
    cdef void** _results
    cdef str _context
    cdef public bint owner_mode
    cdef public bint owns_row

    def __cinit__(self):
        self._spec_table = NULL
        self._results = NULL

    def __init__(self, connection, batch, layouts):
        capsule = connection._get_native_connection()
        self._mysql = PyCapsule_GetPointer(capsule, b"_mysql.connection.native_connection")
        self._connection = connection
        self._batch = batch
        self._wait_query = batch.wait_query
        self._abort_query = batch.abort_query
        self._codecs = tuple(_Codec(layout) for layout in layouts)
        self._ntables = len(batch.tables)
        self._nspecs = len(batch.specs)
        if len(self._codecs) != self._ntables:
            raise ValueError("one layout per table is needed")
        self._spec_table = <int*>malloc(self._nspecs * sizeof(int))
        self._results = <void**>malloc((self._ntables + 2) * sizeof(void*))
        if self._spec_table == NULL or self._results == NULL:
            raise MemoryError()
        for i, table_index in enumerate(batch.spec_table):
            self._spec_table[i] = table_index
        for i in range(self._ntables + 2):
            self._results[i] = NULL
        self._context = "waiting on " + ", ".join(spec.text for spec in batch.specs)
        self.owner_mode = False
        self.owns_row = False

    def __dealloc__(self):
        free(self._spec_table)
        free(self._results)

    def next(self, bint abort):
        """Wait for the next row: ``(spec index, row)``, or None when the wait timed out."""
        if not self._connection.open:
            raise server_error(2006, "the MySQLdb connection is closed", self._context)
        cdef bytes query = self._abort_query if abort else self._wait_query
        cdef const char* query_text = query
        cdef unsigned long length = len(query)
        cdef int wait_statement = 1 if abort else 0
        cdef int nstatements = wait_statement + 1 + self._ntables
        cdef Exchange x
        with nogil:
            _exchange(self._mysql, query_text, length, self._results, nstatements,
                      wait_statement, self._spec_table, self._nspecs, &x)
        try:
            return self._outcome(&x, abort, wait_statement)
        finally:
            with nogil:
                _free_results(self._results, x.nresults)

    cdef object _outcome(self, Exchange* x, bint abort, int wait_statement):
        cdef int failed = x.failed_statement
        if abort and failed != 0:
            self.owner_mode = self.owns_row = False
        if failed != -1 and failed <= wait_statement:
            raise self._error(x)
        if x.wait_null:
            self.owner_mode = self.owns_row = False
            raise WaitReturnedNull()
        self.owner_mode = True
        self.owns_row = x.wait_value > 0
        if failed != -1:
            raise self._error(x)
        if x.wait_value == 0:
            PyErr_CheckSignals()
            return None
        cdef int table_index = self._spec_table[x.wait_value - 1]
        if x.row == NULL:
            raise owned_row_missing(self._batch.tables[table_index])
        cdef _Codec codec = self._codecs[table_index]
        if x.nfields != codec.nfields:
            raise LayoutChanged(x.wait_value - 1, table_index)
        row = codec.convert(x.row, x.lengths)
        # a signal handler that raises here leaves owns_row set: the worker returns the row
        PyErr_CheckSignals()
        return (x.wait_value - 1, row)

    cdef object _error(self, Exchange* x):
        message = x.message.decode("utf-8", "replace")
        return server_error(x.error_number, message, self._context)
