/* Platforms (os/architecture/variant) in Go's names, as image indexes
   write them, and the choice of an index entry for a platform.  */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/oci/internal.h"
#include "pkg/oci/oci.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* The longest os, architecture or variant accepted in --platform.  */
#define PLATFORM_PART_MAX 64

const char *
oci_normalize_arch (const char *arch)
{
  static const char *const names[][2] = {
    { "x86_64", "amd64" }, { "x86-64", "amd64" }, { "aarch64", "arm64" },
    { "i386", "386" },     { "i686", "386" },     { "armhf", "arm" },
    { "armel", "arm" },    { "ppc64el", "ppc64le" },
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp (arch, names[i][0]) == 0)
      return names[i][1];
  return arch;
}

const char *
oci_default_variant (const char *arch)
{
  if (strcmp (arch, "arm64") == 0)
    return "v8";
  if (strcmp (arch, "arm") == 0)
    return "v7";
  return NULL;
}

/* Compile-time, as Go's runtime.GOARCH: the platform the binary runs code
   for, which is what the images it runs must match.  */
void
cove_oci_host_platform (const char **out_os, const char **out_arch,
                        const char **out_variant)
{
  const char *arch, *variant = NULL;
#if defined(__x86_64__)
  arch = "amd64";
#elif defined(__aarch64__)
  arch = "arm64";
  variant = "v8";
#elif defined(__arm__)
  arch = "arm";
# if defined(__ARM_ARCH) && __ARM_ARCH >= 7
  variant = "v7";
# elif defined(__ARM_ARCH) && __ARM_ARCH == 6
  variant = "v6";
# else
  variant = "v5";
# endif
#elif defined(__i386__)
  arch = "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  arch = "ppc64le";
#elif defined(__powerpc64__)
  arch = "ppc64";
#elif defined(__s390x__)
  arch = "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  arch = "riscv64";
#elif defined(__loongarch64)
  arch = "loong64";
#elif defined(__mips64) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  arch = "mips64le";
#elif defined(__mips64)
  arch = "mips64";
#else
  arch = "unknown";
#endif
  if (out_os)
    *out_os = "linux";
  if (out_arch)
    *out_arch = arch;
  if (out_variant)
    *out_variant = variant;
}

static bool
platform_part_valid (const char *s, size_t n)
{
  if (n == 0 || n > PLATFORM_PART_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
          || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
      return false;
  return true;
}

int
cove_oci_platform_parse (const char *s, char **out_os, char **out_arch,
                         char **out_variant, struct cove_error **err)
{
  const char *parts[3];
  size_t lens[3], n = 0;
  const char *p = s ? s : "";
  for (;;)
    {
      const char *slash = strchr (p, '/');
      size_t len = slash ? (size_t) (slash - p) : strlen (p);
      if (n == 3 || !platform_part_valid (p, len))
        return cove_error_set (err, EINVAL,
                               "invalid platform `%.200s`: expected os/arch[/variant]",
                               s ? s : "");
      parts[n] = p;
      lens[n++] = len;
      if (!slash)
        break;
      p = slash + 1;
    }
  if (n < 2)
    return cove_error_set (err, EINVAL,
                           "invalid platform `%.200s`: expected os/arch[/variant]", s);
  cleanup_free char *arch = xstrndup (parts[1], lens[1]);
  *out_os = xstrndup (parts[0], lens[0]);
  *out_arch = xstrdup (oci_normalize_arch (arch));
  *out_variant = n == 3 ? xstrndup (parts[2], lens[2]) : NULL;
  return 0;
}

static bool
str_eq (const char *a, const char *b)
{
  return (a == NULL && b == NULL) || (a && b && strcmp (a, b) == 0);
}

/* How well entry D fits: 3 the wanted variant, 2 an entry that does not
   say its variant (it matches any), 1 another variant when the caller did
   not ask for one, 0 no match.  */
static int
entry_score (const struct cove_oci_descriptor *d, const char *os,
             const char *arch, const char *variant)
{
  if (d->os == NULL || d->architecture == NULL)
    return 0;
  if (strcmp (d->os, os) != 0 || strcmp (oci_normalize_arch (d->architecture), arch) != 0)
    return 0;
  const char *want = variant ? variant : oci_default_variant (arch);
  if (str_eq (d->variant, want))
    return 3;
  if (d->variant == NULL)
    return 2;
  return variant == NULL ? 1 : 0;
}

static bool
is_manifest_type (const char *mt)
{
  return mt && (strcmp (mt, COVE_OCI_MT_MANIFEST) == 0
                || strcmp (mt, COVE_DOCKER_MT_MANIFEST) == 0);
}

int
cove_oci_index_select (const struct cove_oci_manifest *index, const char *os,
                       const char *arch, const char *variant,
                       struct cove_error **err)
{
  if (index->kind != COVE_OCI_DOC_INDEX)
    return cove_error_set (err, EINVAL, "not an image index");
  const char *want_arch = oci_normalize_arch (arch);
  int best = -1, best_score = 0;
  for (size_t i = 0; i < index->n_manifests; i++)
    {
      const struct cove_oci_descriptor *d = &index->manifests[i];
      if (!is_manifest_type (d->media_type))
        continue;
      int score = entry_score (d, os, want_arch, variant);
      if (score > best_score)
        {
          best = (int) i;
          best_score = score;
        }
    }
  if (best < 0)
    return cove_error_set (err, ENOENT,
                           "no image found in manifest list for architecture %s%s%s, OS %s",
                           want_arch, variant ? ", variant " : "", variant ? variant : "", os);
  return best;
}
