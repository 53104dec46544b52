/* Which library implements a platform, for the program cache's key: a
 * driver rebuilt or updated in place often keeps its version string
 * (PoCL's "3.1" whatever LLVM it was built with), and a binary of the old
 * build handed to the new one may crash it rather than be refused (PoCL
 * asserts on a truncated binary of its own, Intel's compiler crashes on
 * one flipped bit, rusticl panics on any binary not in its format:
 * README.md, "Devices"). */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <stdio.h>
#include <sys/stat.h>

#include "opencl/ocl.h"

void ocl_driver_library(cl_platform_id platform, char *buf, size_t len) {
  /* A function of the driver's own (the ICD loader hands the query to
   * it), else the dispatch table cl_khr_icd puts first in every object,
   * which lives in the driver's library (Oclgrind has no such function). */
  void *addr = clGetExtensionFunctionAddressForPlatform(
      platform, "clIcdGetPlatformIDsKHR");
  if (!addr && platform)
    addr = *(void **)platform;
  Dl_info info;
  struct stat st;
  if (addr && dladdr(addr, &info) && info.dli_fname &&
      stat(info.dli_fname, &st) == 0)
    snprintf(buf, len, "%s size %lld mtime %lld.%09ld", info.dli_fname,
             (long long)st.st_size, (long long)st.st_mtim.tv_sec,
             (long)st.st_mtim.tv_nsec);
  else
    snprintf(buf, len, "unknown");
}
