/* sha256 digests, the content addresses of every blob (libcrypto EVP).  */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/oci/oci.h"
#include "pkg/util/xalloc.h"

#define SHA256_PREFIX "sha256:"
#define SHA256_HEX_LEN 64

struct cove_oci_hasher
{
  EVP_MD_CTX *ctx;
};

bool
cove_oci_digest_valid (const char *digest)
{
  if (digest == NULL || strncmp (digest, SHA256_PREFIX, strlen (SHA256_PREFIX)) != 0)
    return false;
  const char *hex = digest + strlen (SHA256_PREFIX);
  size_t i;
  for (i = 0; hex[i]; i++)
    {
      if (i >= SHA256_HEX_LEN)
        return false;
      if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
        return false;
    }
  return i == SHA256_HEX_LEN;
}

int
cove_oci_digest_check (const char *digest, struct cove_error **err)
{
  if (cove_oci_digest_valid (digest))
    return 0;
  if (digest == NULL)
    return cove_error_set (err, EINVAL, "missing digest");
  /* The grammar of the OCI image spec: algorithm ":" encoded.  A
     well-formed digest of another algorithm is not malformed, only
     unsupported.  */
  const char *colon = strchr (digest, ':');
  if (colon && colon != digest && colon[1] != '\0')
    {
      bool algo_ok = true;
      for (const char *p = digest; p < colon; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr ("+._-", *p)))
          algo_ok = false;
      if (algo_ok && strncmp (digest, SHA256_PREFIX, strlen (SHA256_PREFIX)) != 0)
        return cove_error_set (err, ENOTSUP, "unsupported digest algorithm `%.*s` (only sha256)",
                               (int) (colon - digest < 32 ? colon - digest : 32), digest);
    }
  return cove_error_set (err, EINVAL, "invalid digest `%.80s`", digest);
}

struct cove_oci_hasher *
cove_oci_hasher_new (void)
{
  struct cove_oci_hasher *h = xmalloc0 (sizeof *h);
  h->ctx = EVP_MD_CTX_new ();
  /* Both fail only when out of memory, which xalloc treats as fatal too.  */
  if (h->ctx == NULL || EVP_DigestInit_ex (h->ctx, EVP_sha256 (), NULL) != 1)
    abort ();
  return h;
}

void
cove_oci_hasher_update (struct cove_oci_hasher *h, const void *buf, size_t len)
{
  if (len > 0 && EVP_DigestUpdate (h->ctx, buf, len) != 1)
    abort ();
}

static char *
hex_digest (const unsigned char *md, unsigned int len)
{
  static const char hexchars[] = "0123456789abcdef";
  char *out = xmalloc (strlen (SHA256_PREFIX) + 2 * len + 1);
  memcpy (out, SHA256_PREFIX, strlen (SHA256_PREFIX));
  char *p = out + strlen (SHA256_PREFIX);
  for (unsigned int i = 0; i < len; i++)
    {
      *p++ = hexchars[md[i] >> 4];
      *p++ = hexchars[md[i] & 0xf];
    }
  *p = '\0';
  return out;
}

char *
cove_oci_hasher_finish (struct cove_oci_hasher *h)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex (h->ctx, md, &len) != 1)
    abort ();
  cove_oci_hasher_free (h);
  return hex_digest (md, len);
}

void
cove_oci_hasher_free (struct cove_oci_hasher *h)
{
  if (h == NULL)
    return;
  EVP_MD_CTX_free (h->ctx);
  free (h);
}

char *
cove_oci_digest_buffer (const void *buf, size_t len)
{
  struct cove_oci_hasher *h = cove_oci_hasher_new ();
  cove_oci_hasher_update (h, buf, len);
  return cove_oci_hasher_finish (h);
}
