/*
 * pgcompat.h
 *		What differs between the PostgreSQL majors facecompare builds
 *		against (15 to 19), in one place: every other file uses the newest
 *		spelling, and this header supplies it for older servers.
 */
#ifndef PGCOMPAT_H
#define PGCOMPAT_H

/*
 * PostgreSQL 18 replaced pg_attribute_noreturn(), written after a
 * declaration, with pg_noreturn, written before it.  GCC and clang take the
 * older attribute in front too.
 */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

/*
 * PostgreSQL 18 lets a module say its name and version, which
 * pg_get_loaded_modules() then shows.  Include after fmgr.h.
 */
#ifdef PG_MODULE_MAGIC_EXT
#define FC_MODULE_MAGIC PG_MODULE_MAGIC_EXT(.name = "facecompare", .version = FC_VERSION)
#else
#define FC_MODULE_MAGIC PG_MODULE_MAGIC
#endif

/*
 * PostgreSQL 17 ties a wait event set to a resource owner instead of a
 * memory context.  Ours lives as long as the backend: no owner, which 17
 * allocates in TopMemoryContext, as we ask of older servers.
 */
#if PG_VERSION_NUM >= 170000
#define fc_create_wait_event_set(nevents) CreateWaitEventSet(NULL, (nevents))
#else
#define fc_create_wait_event_set(nevents) CreateWaitEventSet(TopMemoryContext, (nevents))
#endif

/* PostgreSQL 16 moved the varlena macros (VARDATA_ANY...) out of postgres.h. */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/*
 * PostgreSQL 18 asks whether a deferrable primary key will do; to identify
 * uploads by, it does.
 */
#if PG_VERSION_NUM >= 180000
#define fc_primary_key_index(rel) RelationGetPrimaryKeyIndex((rel), true)
#else
#define fc_primary_key_index(rel) RelationGetPrimaryKeyIndex(rel)
#endif

/*
 * PostgreSQL 17 lets an extension name its wait events (pg_stat_activity
 * then says "FacecompareAnswer" rather than "Extension").  Older servers
 * have the one generic event.
 */
#if PG_VERSION_NUM >= 170000
#define fc_wait_event_new(name) WaitEventExtensionNew(name)
#else
#define fc_wait_event_new(name) ((void) (name), PG_WAIT_EXTENSION)
#endif

#endif							/* PGCOMPAT_H */
