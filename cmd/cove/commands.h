/* cove: the commands of the command table (cmd/cove/main.c).  Each takes
   argv with argv[0] the command's name and returns the process exit code:
   0, the container's status, 125 (cove failed), 126, 127.  Only cmd/
   prints errors: `Error: <msg>: <strerror>` on stderr, once.  */
#ifndef COVE_CMD_COMMANDS_H
#define COVE_CMD_COMMANDS_H

int cove_cmd_run (int argc, char **argv);
int cove_cmd_info (int argc, char **argv);
int cove_cmd_version (int argc, char **argv);
int cove_cmd_unshare (int argc, char **argv);
int cove_cmd_image (int argc, char **argv);
int cove_cmd_images (int argc, char **argv);
int cove_cmd_pull (int argc, char **argv);
int cove_cmd_push (int argc, char **argv);
int cove_cmd_login (int argc, char **argv);
int cove_cmd_search (int argc, char **argv);
int cove_cmd_logout (int argc, char **argv);
int cove_cmd_rmi (int argc, char **argv);
int cove_cmd_tag (int argc, char **argv);
int cove_cmd_untag (int argc, char **argv);
int cove_cmd_history (int argc, char **argv);
int cove_cmd_inspect (int argc, char **argv);
int cove_cmd_image_inspect (int argc, char **argv);
int cove_cmd_image_prune (int argc, char **argv);
int cove_cmd_load (int argc, char **argv);
int cove_cmd_save (int argc, char **argv);
int cove_cmd_import (int argc, char **argv);
int cove_cmd_commit (int argc, char **argv);
int cove_cmd_build (int argc, char **argv);
int cove_cmd_create (int argc, char **argv);
int cove_cmd_start (int argc, char **argv);
int cove_cmd_stop (int argc, char **argv);
int cove_cmd_restart (int argc, char **argv);
int cove_cmd_kill (int argc, char **argv);
int cove_cmd_rm (int argc, char **argv);
int cove_cmd_wait (int argc, char **argv);
int cove_cmd_attach (int argc, char **argv);
int cove_cmd_pause (int argc, char **argv);
int cove_cmd_unpause (int argc, char **argv);
int cove_cmd_rename (int argc, char **argv);
int cove_cmd_container (int argc, char **argv);
int cove_cmd_container_exists (int argc, char **argv);
int cove_cmd_container_prune (int argc, char **argv);
int cove_cmd_port (int argc, char **argv);
int cove_cmd_system (int argc, char **argv);
int cove_cmd_system_check (int argc, char **argv);
int cove_cmd_ps (int argc, char **argv);
int cove_cmd_container_inspect (int argc, char **argv);
int cove_cmd_exec (int argc, char **argv);
int cove_cmd_top (int argc, char **argv);
int cove_cmd_logs (int argc, char **argv);
int cove_cmd_cp (int argc, char **argv);
int cove_cmd_diff (int argc, char **argv);
int cove_cmd_export (int argc, char **argv);
int cove_cmd_volume (int argc, char **argv);
int cove_cmd_pod (int argc, char **argv);

#endif
