/* qbench: a small libmariadb client that times one access pattern on N threads.
 *
 * Every thread opens its own connection before the clock starts, then all start together
 * and share one budget of --ops operations (each thread reserves an operation before
 * doing it, so exactly --ops jobs are done whatever the thread count, and no consumer
 * ever waits for a row that is not there). The clock stops when the last thread is done,
 * including each consumer's final `SELECT queue_end()` that removes its last row.
 *
 * Modes (the statements per operation):
 *   select1   SELECT 1                                                    (1 round trip)
 *   insert    INSERT INTO <table> (id, v) VALUES (<n>, 'payload-<n>')      (1)
 *   wait      SELECT queue_wait('<table>', <timeout>)  then  SELECT * FROM <table>   (2)
 *   wait1     SELECT queue_wait('<table>', <timeout>); SELECT * FROM <table>  (1, multi-statement)
 *   gem       SELECT queue_wait('<table>', <timeout>), SELECT * FROM <table>, SELECT queue_end() (3)
 *   innodb    SELECT id, v FROM <table> ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED,
 *             DELETE FROM <table> WHERE id = <id>, COMMIT                   (3, autocommit off)
 *   waitonly  SELECT queue_wait('<table>', <timeout>) alone: takes rows without reading them
 *             (what queue_wait itself costs, for profiling)                 (1)
 *
 * Output: one line of key=value pairs, e.g.
 *   mode=wait1 threads=8 ops=20000 seconds=2.913 rate=6866.1 retries=0 client_cpu=0.61
 * (client_cpu: user + system seconds of the whole process, connecting included).
 *
 * Build: gcc -O2 -pthread qbench.c $(pkg-config --cflags --libs libmariadb) -o qbench
 */
#define _GNU_SOURCE
#include <mysql.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

enum mode { SELECT1, INSERT, WAIT, WAIT1, GEM, INNODB, WAITONLY };
static const char *mode_names[] = {"select1", "insert", "wait", "wait1", "gem", "innodb",
                                   "waitonly"};

static enum mode mode;
static const char *host = "127.0.0.1", *user = "root", *password = "", *database = "test";
static unsigned port = 3306;
static const char *table = "t";
static int timeout = 1;
static long ops = 10000;
static int nthreads = 1;

static atomic_long reserved;     /* operations handed out so far */
static atomic_long retries;      /* waits/selects that came back empty and were retried */
static pthread_barrier_t start_line;   /* the threads and main: the clock starts together */

static void die(MYSQL *m, const char *what) {
    fprintf(stderr, "qbench: %s: %s (%u)\n", what, m ? mysql_error(m) : "", m ? mysql_errno(m) : 0);
    exit(1);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run one statement and return its stored result (NULL for none). */
static MYSQL_RES *query(MYSQL *m, const char *sql) {
    if (mysql_real_query(m, sql, strlen(sql))) die(m, sql);
    MYSQL_RES *r = mysql_store_result(m);
    if (!r && mysql_field_count(m)) die(m, sql);
    return r;
}

/* The first column of the first row as an integer; -1 for NULL or no row. */
static long first_value(MYSQL_RES *r) {
    MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
    long v = (row && row[0]) ? atol(row[0]) : -1;
    if (r) mysql_free_result(r);
    return v;
}

/* The owned row of `SELECT * FROM t`: read it (as a client would) and count it. */
static int read_row(MYSQL_RES *r) {
    int got = 0;
    MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
    if (row) {
        unsigned long *len = mysql_fetch_lengths(r);
        volatile unsigned long sink = len[0] + (row[0] ? row[0][0] : 0);
        (void)sink;
        got = 1;
    }
    if (r) mysql_free_result(r);
    return got;
}

static void *worker(void *arg) {
    (void)arg;
    MYSQL *m = mysql_init(NULL);
    if (!m) die(NULL, "mysql_init");
    if (!mysql_real_connect(m, host, user, password, database, port, NULL,
                            CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS))
        die(m, "connect");
    if (mode == INNODB && mysql_autocommit(m, 0)) die(m, "autocommit");
    char wait_sql[256], wait1_sql[512], select_sql[256], sql[512];
    snprintf(wait_sql, sizeof wait_sql, "SELECT queue_wait('%s', %d)", table, timeout);
    snprintf(wait1_sql, sizeof wait1_sql, "SELECT queue_wait('%s', %d); SELECT * FROM %s",
             table, timeout, table);
    snprintf(select_sql, sizeof select_sql, "SELECT * FROM %s", table);
    int owns = 0;

    pthread_barrier_wait(&start_line);

    for (;;) {
        long n = atomic_fetch_add(&reserved, 1);
        if (n >= ops) break;
        switch (mode) {
        case SELECT1:
            first_value(query(m, "SELECT 1"));
            break;
        case INSERT:
            snprintf(sql, sizeof sql, "INSERT INTO %s (id, v) VALUES (%ld, 'payload-%ld')",
                     table, n, n);
            query(m, sql);
            break;
        case WAIT:
        case GEM:
            for (;;) {
                if (first_value(query(m, wait_sql)) == 1 && read_row(query(m, select_sql))) break;
                atomic_fetch_add(&retries, 1);
            }
            if (mode == GEM) first_value(query(m, "SELECT queue_end()"));
            else owns = 1;
            break;
        case WAITONLY:
            while (first_value(query(m, wait_sql)) != 1) atomic_fetch_add(&retries, 1);
            owns = 1;
            break;
        case WAIT1:
            for (;;) {
                if (mysql_real_query(m, wait1_sql, strlen(wait1_sql))) die(m, wait1_sql);
                long v = first_value(mysql_store_result(m));
                if (mysql_next_result(m) != 0) die(m, "next result");
                int got = read_row(mysql_store_result(m));
                if (v == 1 && got) break;
                atomic_fetch_add(&retries, 1);
            }
            owns = 1;
            break;
        case INNODB:
            for (;;) {
                snprintf(sql, sizeof sql,
                         "SELECT id, v FROM %s ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED", table);
                long id = first_value(query(m, sql));
                if (id >= 0) {
                    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id = %ld", table, id);
                    query(m, sql);
                    query(m, "COMMIT");
                    break;
                }
                query(m, "ROLLBACK");
                atomic_fetch_add(&retries, 1);
            }
            break;
        }
    }
    if (owns) first_value(query(m, "SELECT queue_end()"));   /* removes the last row */
    mysql_close(m);
    return NULL;
}

static void usage(void) {
    fprintf(stderr, "usage: qbench MODE [--host H] [--port P] [--user U] [--password W] "
                    "[--database D] [--table T] [--threads N] [--ops N] [--timeout S]\n"
                    "MODE: select1 insert wait wait1 gem innodb waitonly\n");
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 2) usage();
    int found = 0;
    for (int i = 0; i < (int)(sizeof mode_names / sizeof *mode_names); i++)
        if (!strcmp(argv[1], mode_names[i])) { mode = i; found = 1; }
    if (!found) usage();
    for (int i = 2; i < argc; i++) {
        if (i + 1 >= argc) usage();
        const char *k = argv[i], *v = argv[++i];
        if (!strcmp(k, "--host")) host = v;
        else if (!strcmp(k, "--port")) port = atoi(v);
        else if (!strcmp(k, "--user")) user = v;
        else if (!strcmp(k, "--password")) password = v;
        else if (!strcmp(k, "--database")) database = v;
        else if (!strcmp(k, "--table")) table = v;
        else if (!strcmp(k, "--threads")) nthreads = atoi(v);
        else if (!strcmp(k, "--ops")) ops = atol(v);
        else if (!strcmp(k, "--timeout")) timeout = atoi(v);
        else usage();
    }
    if (nthreads < 1 || ops < 1) usage();
    if (mysql_library_init(0, NULL, NULL)) die(NULL, "mysql_library_init");

    pthread_t *threads = calloc(nthreads, sizeof *threads);
    pthread_barrier_init(&start_line, NULL, nthreads + 1);
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&threads[i], NULL, worker, NULL)) die(NULL, "pthread_create");
    pthread_barrier_wait(&start_line);
    double start = now();
    for (int i = 0; i < nthreads; i++) pthread_join(threads[i], NULL);
    double seconds = now() - start;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
                 ru.ru_stime.tv_usec / 1e6;
    printf("mode=%s threads=%d ops=%ld seconds=%.4f rate=%.1f retries=%ld client_cpu=%.4f\n",
           mode_names[mode], nthreads, ops, seconds, ops / seconds, atomic_load(&retries), cpu);
    mysql_library_end();
    return 0;
}
