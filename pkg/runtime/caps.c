/* The process's identity: groups, uid/gid and capabilities, in the child
   after pivot_root, as root of the caller's user namespace (every
   capability over it) until the switch.  */
#include <errno.h>
#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "pkg/runtime/internal.h"
#include "pkg/util/cleanup.h"

static int
set_ids (const struct runtime_config *cfg, struct cove_error **err)
{
  if (setgroups (cfg->n_additional_gids, cfg->additional_gids) < 0)
    {
      /* A user namespace mapped by a plain uid_map write (no newgidmap)
         denies setgroups; with no groups to set that changes nothing.  */
      if (!(errno == EPERM && cfg->n_additional_gids == 0))
        return cove_error_set (err, errno, "setgroups");
    }
  if (setresgid (cfg->gid, cfg->gid, cfg->gid) < 0)
    return cove_error_set (err, errno, "setresgid `%u`", (unsigned) cfg->gid);
  if (setresuid (cfg->uid, cfg->uid, cfg->uid) < 0)
    return cove_error_set (err, errno, "setresuid `%u`", (unsigned) cfg->uid);
  return 0;
}

static int
drop_bounding (uint64_t keep, struct cove_error **err)
{
  /* cap_max_bits: the kernel's number of capabilities, probed once by
     libcap when it loads.  */
  for (int cap = 0; cap < (int) cap_max_bits (); cap++)
    {
      if (cap < 64 && (keep & (UINT64_C (1) << cap)))
        continue;
      if (prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
        return cove_error_set (err, errno, "drop capability %d from the bounding set",
                               cap);
    }
  return 0;
}

static int
set_caps (const struct runtime_config *cfg, struct cove_error **err)
{
  static const struct
  {
    enum runtime_capset set;
    cap_flag_t flag;
  } sets[] = {
    { RUNTIME_CAP_EFFECTIVE, CAP_EFFECTIVE },
    { RUNTIME_CAP_PERMITTED, CAP_PERMITTED },
    { RUNTIME_CAP_INHERITABLE, CAP_INHERITABLE },
  };
  cap_t caps = cap_init ();
  if (caps == NULL)
    return cove_error_set (err, errno, "cap_init");
  for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++)
    for (cap_value_t cap = 0; cap < 64; cap++)
      if ((cfg->caps[sets[s].set] & (UINT64_C (1) << cap))
          && CAP_IS_SUPPORTED (cap))
        cap_set_flag (caps, sets[s].flag, 1, &cap, CAP_SET);
  int r = cap_set_proc (caps);
  int saved = errno;
  cap_free (caps);
  if (r < 0)
    return cove_error_set (err, saved, "set capabilities");
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    return cove_error_set (err, errno, "clear ambient capabilities");
  for (int cap = 0; cap < 64; cap++)
    if ((cfg->caps[RUNTIME_CAP_AMBIENT] & (UINT64_C (1) << cap))
        && CAP_IS_SUPPORTED (cap)
        && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      return cove_error_set (err, errno, "raise ambient capability %d", cap);
  return 0;
}

int
runtime_process_identity (const struct runtime_config *cfg,
                          struct cove_error **err)
{
  if (cfg->has_caps && drop_bounding (cfg->caps[RUNTIME_CAP_BOUNDING], err) < 0)
    return -1;
  /* Keep the permitted set across setuid to a non-zero uid; the config's
     sets are applied right after.  */
  if (cfg->has_caps && prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return cove_error_set (err, errno, "prctl PR_SET_KEEPCAPS");
  if (set_ids (cfg, err) < 0)
    return -1;
  if (!cfg->has_caps)
    return 0;
  if (prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return cove_error_set (err, errno, "prctl PR_SET_KEEPCAPS");
  return set_caps (cfg, err);
}
