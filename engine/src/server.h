// Every translation unit of the engine includes this first: it pulls in the
// server's own headers with MYSQL_SERVER defined, as MariaDB's in-tree engines
// do, so THD, LEX and Field are usable directly. This is only safe because the
// plugin is compiled against the exact server version it is loaded into
// (scripts/q4m-server guarantees that).
#pragma once
#ifndef MYSQL_SERVER
#define MYSQL_SERVER 1
#endif
#include <my_global.h>
#include "sql_class.h"
#include "handler.h"
#include "table.h"
#include "field.h"
#include "sql_table.h"
#include "log.h"
#include <mysql/plugin.h>
