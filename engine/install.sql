-- Installs the QUEUE engine and its functions (all in one shared object).
INSTALL SONAME 'libqueue_engine.so';
CREATE FUNCTION queue_wait RETURNS INTEGER SONAME 'libqueue_engine.so';
CREATE FUNCTION queue_end RETURNS INTEGER SONAME 'libqueue_engine.so';
CREATE FUNCTION queue_abort RETURNS INTEGER SONAME 'libqueue_engine.so';
CREATE FUNCTION queue_rowid RETURNS INTEGER SONAME 'libqueue_engine.so';
CREATE FUNCTION queue_compact RETURNS INTEGER SONAME 'libqueue_engine.so';
CREATE FUNCTION queue_stats RETURNS STRING SONAME 'libqueue_engine.so';
CREATE FUNCTION queue_set_srcid RETURNS INTEGER SONAME 'libqueue_engine.so';
