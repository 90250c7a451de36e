/* version.c — tc_version(): the version compiled into the library (core/version.h). */
#include "core/version.h"

const char *tc_version(void) { return TC_VERSION_STRING; }
