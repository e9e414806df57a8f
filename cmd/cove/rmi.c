/* cove rmi, tag, untag, image prune.  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cove/commands.h"
#include "cmd/cove/ctr.h"
#include "cmd/cove/ctrcmd.h"
#include "cmd/cove/ctrops.h"
#include "cmd/cove/imgutil.h"
#include "cmd/cove/opts.h"
#include "cmd/cove/output.h"
#include "cmd/cove/store.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

/* The options are the container commands' (CTR_OPT_* ids, parsed by
   cove_ctr_flags_opt into a struct cove_ctr_flags): -a sets all, -f
   force.  */
static const struct cove_opt rmi_opts[] = {
  { "all", 'a', COVE_OPT_BOOL, CTR_OPT_ALL, NULL, "Remove all images" },
  { "force", 'f', COVE_OPT_BOOL, CTR_OPT_FORCE, NULL, "Force Removal of the image" },
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for rmi" },
  { NULL, 0, 0, 0, NULL, NULL },
};

static const struct cove_opt help_only[] = {
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for the command" },
  { NULL, 0, 0, 0, NULL, NULL },
};

/* A command's options and help.  */
struct cmd_desc
{
  const struct cove_opt *table;
  const char *usage, *desc;
};

/* Parse ARGV with D's table into *F; returns the positional arguments
   (caller frees the array), or NULL with *OUT_STATUS set (0 after
   --help).  */
static char **
parse (int argc, char **argv, const struct cmd_desc *d,
       struct cove_ctr_flags *f, int *out_n, int *out_status)
{
  cove_ctr_flags_init (f);
  return cove_ctr_parse (argc, argv, d->table, d->usage, d->desc,
                         cove_ctr_flags_opt, f, out_n, out_status);
}

static const struct cove_opt prune_opts[] = {
  { "all", 'a', COVE_OPT_BOOL, CTR_OPT_ALL, NULL, "Remove all images not in use by containers, not just dangling ones" },
  { "force", 'f', COVE_OPT_BOOL, CTR_OPT_FORCE, NULL, "Do not prompt for confirmation" },
  { "help", 'h', COVE_OPT_BOOL, CTR_OPT_HELP, NULL, "help for prune" },
  { NULL, 0, 0, 0, NULL, NULL },
};

/* The containers of the user's store that use image ID, as a new
   NULL-terminated list of their ids; NULL when none (or the store cannot
   be read: then nothing is known to use it).  */
static char **
image_users (const struct cove_storage_paths *paths, const char *id)
{
  struct cove_state_store st;
  if (cove_state_store_open (&st, paths->data_dir, NULL) < 0)
    return NULL;
  struct cove_state_container *all = NULL;
  size_t n = 0;
  char **warnings = NULL, **users = NULL;
  if (cove_state_list (&st, &all, &n, &warnings, NULL) == 0)
    {
      for (size_t i = 0; i < n; i++)
        if (all[i].image_id && strcmp (all[i].image_id, id) == 0)
          cove_strv_append (&users, all[i].id);
      cove_strv_free (warnings);
      cove_state_container_list_free (all, n);
    }
  cove_state_store_close (&st);
  return users;
}

/* 0 when no container uses IMG, or FORCE removed them; else podman's
   error and exit status 2.  */
static int
free_image (const struct cove_storage_paths *paths,
            const struct cove_storage_image *img, bool force)
{
  cleanup_strv char **users = image_users (paths, img->id);
  if (users == NULL)
    return 0;
  if (!force)
    {
      fprintf (stderr, "Error: image used by %s: image is in use by a "
               "container: consider listing external containers and "
               "force-removing image\n", users[0]);
      return 2;
    }
  cleanup_error struct cove_error *err = NULL;
  struct cove_state_store st;
  if (cove_state_store_open (&st, paths->data_dir, &err) < 0)
    return cove_cmd_fail (&err, 125);
  int ret = 0;
  for (char **u = users; *u && ret == 0; u++)
    {
      struct cove_state_container c;
      if (cove_ctr_load (&st, *u, &c, &err) < 0)
        {
          cove_error_release (&err);
          continue;
        }
      if (cove_ctr_remove (paths, &st, &c, true, false, &err) < 0
          && err->errnum != ENOENT)
        ret = cove_cmd_fail (&err, 125);
      cove_error_release (&err);
      cove_state_container_free (&c);
    }
  cove_state_store_close (&st);
  return ret;
}

/* Remove IMG entirely, printing what podman prints.  */
static int
remove_image (struct cove_storage *s, struct cove_storage_image *img,
              struct cove_error **err)
{
  for (size_t i = 0; img->names && img->names[i]; i++)
    printf ("Untagged: %s\n", img->names[i]);
  if (cove_storage_image_remove (s, img->id, err) < 0)
    return -1;
  printf ("Deleted: %s\n", img->id);
  return 0;
}

/* rmi of one image as the user named it.  Returns 0, or podman's exit
   status: 1 not found, 125 other failures (after printing the error).  */
static int
rmi_one (const struct cove_storage_paths *paths, struct cove_storage *s,
         const char *user, bool force)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_storage_image img;
  if (cove_img_find (s, user, &img, &err) < 0)
    return cove_cmd_fail (&err, err->errnum == ENOENT ? 1 : 125);
  size_t n = 0;
  while (img.names && img.names[n])
    n++;
  bool by_id = strncmp (img.id, user, strlen (user)) == 0;
  int ret = 0;
  if (n > 1 && !by_id)
    {
      /* A name of an image with others: untag that one.  */
      for (size_t i = 0; i < n; i++)
        if (cove_img_name_matches (img.names[i], user))
          {
            if (cove_storage_image_untag (s, img.names[i], &err) < 0)
              ret = cove_cmd_fail (&err, 125);
            else
              printf ("Untagged: %s\n", img.names[i]);
            break;
          }
    }
  else if (n > 1 && !force)
    ret = cove_cmd_usage_error ("unable to delete image \"%s\" by ID with more "
                                "than one tag: please force removal", img.id);
  else if ((ret = free_image (paths, &img, force)) != 0)
    ;
  else if (remove_image (s, &img, &err) < 0)
    ret = cove_cmd_fail (&err, 125);
  cove_storage_image_free (&img);
  return ret;
}

static int
rmi_all (const struct cove_storage_paths *paths, struct cove_storage *s,
         bool force)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_storage_image *all = NULL;
  size_t n = 0;
  if (cove_storage_image_list (s, &all, &n, &err) < 0)
    return cove_cmd_fail (&err, 125);
  int ret = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (ret == 0)
        ret = free_image (paths, &all[i], force);
      if (ret == 0 && remove_image (s, &all[i], &err) < 0)
        ret = cove_cmd_fail (&err, 125);
      cove_storage_image_free (&all[i]);
    }
  free (all);
  return ret;
}

int
cove_cmd_rmi (int argc, char **argv)
{
  static const struct cmd_desc d = {
    rmi_opts, "cove rmi [options] IMAGE [IMAGE...]",
    "Removes one or more images from local storage",
  };
  struct cove_ctr_flags f;
  int n, status;
  cleanup_free char **rest = parse (argc, argv, &d, &f, &n, &status);
  if (rest == NULL)
    return status;
  if (n == 0 && !f.all)
    return cove_cmd_usage_error ("image name or ID must be specified");
  if (n > 0 && f.all)
    return cove_cmd_usage_error ("when using the --all switch, you may not pass any images names or IDs");
  cleanup_error struct cove_error *err = NULL;
  struct cove_storage_paths paths;
  struct cove_storage *s = NULL;
  if (cove_cmd_store_open (&paths, &s, &err) < 0)
    return cove_cmd_fail (&err, 125);
  int ret = f.all ? rmi_all (&paths, s, f.force) : 0;
  for (int i = 0; i < n; i++)
    {
      int r = rmi_one (&paths, s, rest[i], f.force);
      /* As podman: 125 wins over 1 (not found).  */
      if (r == 125 || (r != 0 && ret == 0))
        ret = r;
    }
  cove_cmd_store_close (&paths, s);
  return ret;
}

/* Open the store, find the image USER names, and run ACT on it with the
   names NAMES[1..N-1]; returns ACT's exit status (or 125).  */
typedef int (*image_action) (struct cove_storage *s,
                             const struct cove_storage_image *img,
                             char **rest, int n);

static int
on_image (char **rest, int n, image_action act)
{
  cleanup_error struct cove_error *err = NULL;
  struct cove_storage_paths paths;
  struct cove_storage *s = NULL;
  if (cove_cmd_store_open (&paths, &s, &err) < 0)
    return cove_cmd_fail (&err, 125);
  struct cove_storage_image img;
  int ret;
  if (cove_img_find (s, rest[0], &img, &err) < 0)
    ret = cove_cmd_fail (&err, 125);
  else
    {
      ret = act (s, &img, rest, n);
      cove_storage_image_free (&img);
    }
  cove_cmd_store_close (&paths, s);
  return ret;
}

static int
tag_names (struct cove_storage *s, const struct cove_storage_image *img,
           char **rest, int n)
{
  cleanup_error struct cove_error *err = NULL;
  int ret = 0;
  for (int i = 1; ret == 0 && i < n; i++)
    {
      cleanup_free char *name = cove_img_normalize_tag (rest[i], &err);
      if (name == NULL || cove_storage_image_tag (s, img->id, name, &err) < 0)
        ret = cove_cmd_fail (&err, 125);
    }
  return ret;
}

int
cove_cmd_tag (int argc, char **argv)
{
  static const struct cmd_desc d = {
    help_only, "cove tag IMAGE TARGET_NAME [TARGET_NAME...]",
    "Add an additional name to a local image",
  };
  struct cove_ctr_flags f;
  int n, status;
  cleanup_free char **rest = parse (argc, argv, &d, &f, &n, &status);
  if (rest == NULL)
    return status;
  if (n < 2)
    return cove_cmd_usage_error ("at least two arguments are required: IMAGE TARGET_NAME");
  return on_image (rest, n, tag_names);
}

/* Does the name GIVEN by the user stand for the stored NAME?  */
static bool
is_name (const char *name, const char *given)
{
  cleanup_error struct cove_error *ignored = NULL;
  cleanup_free char *want = cove_img_normalize_tag (given, &ignored);
  return (want && strcmp (want, name) == 0) || cove_img_name_matches (name, given);
}

static bool
has_name (const struct cove_storage_image *img, const char *given)
{
  for (size_t i = 0; img->names && img->names[i]; i++)
    if (is_name (img->names[i], given))
      return true;
  return false;
}

static int
untag_names (struct cove_storage *s, const struct cove_storage_image *img,
             char **rest, int n)
{
  /* Every name given must be one of the image's, as in podman.  */
  for (int j = 1; j < n; j++)
    if (!has_name (img, rest[j]))
      return cove_cmd_usage_error ("%s: tag not known", rest[j]);
  cleanup_error struct cove_error *err = NULL;
  for (size_t i = 0; img->names && img->names[i]; i++)
    {
      bool named = n == 1;
      for (int j = 1; j < n && !named; j++)
        named = is_name (img->names[i], rest[j]);
      if (named && cove_storage_image_untag (s, img->names[i], &err) < 0)
        return cove_cmd_fail (&err, 125);
    }
  return 0;
}

int
cove_cmd_untag (int argc, char **argv)
{
  static const struct cmd_desc d = {
    help_only, "cove untag IMAGE [IMAGE...]",
    "Remove a name from a local image (all names when none is given)",
  };
  struct cove_ctr_flags f;
  int n, status;
  cleanup_free char **rest = parse (argc, argv, &d, &f, &n, &status);
  if (rest == NULL)
    return status;
  if (n < 1)
    return cove_cmd_usage_error ("at least one argument is required: IMAGE");
  return on_image (rest, n, untag_names);
}

int
cove_cmd_image_prune (int argc, char **argv)
{
  static const struct cmd_desc d = {
    prune_opts, "cove image prune [options]",
    "Remove all unused images from local storage",
  };
  struct cove_ctr_flags f;
  int n, status;
  cleanup_free char **rest = parse (argc, argv, &d, &f, &n, &status);
  if (rest == NULL)
    return status;
  if (n > 0)
    return cove_cmd_usage_error ("`cove image prune` takes no arguments");
  if (!f.force
      && !cove_cmd_confirm (stderr, f.all
                            ? "WARNING! This command removes all images "
                              "without at least one container associated "
                              "with them.\n"
                            : "WARNING! This command removes all dangling "
                              "images.\n"))
    return 0;
  cleanup_error struct cove_error *err = NULL;
  struct cove_storage_paths paths;
  struct cove_storage *s = NULL;
  if (cove_cmd_store_open (&paths, &s, &err) < 0)
    return cove_cmd_fail (&err, 125);
  struct cove_storage_image *all = NULL;
  size_t count = 0;
  int ret = 0;
  if (cove_storage_image_list (s, &all, &count, &err) < 0)
    ret = cove_cmd_fail (&err, 125);
  for (size_t i = 0; i < count; i++)
    {
      bool dangling = all[i].names == NULL || all[i].names[0] == NULL;
      cleanup_strv char **users = ret == 0 ? image_users (&paths, all[i].id) : NULL;
      if (ret == 0 && users == NULL && (dangling || f.all))
        {
          if (cove_storage_image_remove (s, all[i].id, &err) < 0)
            ret = cove_cmd_fail (&err, 125);
          else
            printf ("%s\n", all[i].id);
        }
      cove_storage_image_free (&all[i]);
    }
  free (all);
  cove_cmd_store_close (&paths, s);
  return ret;
}
