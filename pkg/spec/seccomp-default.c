/* The built-in seccomp profile, with the semantics of the default profiles
   of docker (moby profiles/seccomp/default.json) and podman
   (containers-common seccomp.json): an allowlist; what is not listed fails
   with ENOSYS, so that a program probing a new syscall (clone3, io_uring,
   the new mount API, ...) falls back to the old one as it would on an older
   kernel; what the profiles refuse on purpose fails with EPERM, so that a
   program sees "not allowed" and not "not implemented".

   The table is written in docker's terms (includes/excludes of capabilities
   and architectures) and turned into an OCI `linux.seccomp` object for the
   capabilities of one container.  Rows that refuse a syscall without a
   capability and rows that allow it with the capability exclude each other,
   so that libseccomp never sees two unconditional rules of different
   actions for one syscall.  */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "pkg/spec/internal.h"
#include "pkg/spec/spec.h"


/* The filter covers the native ABI and the compatible ones a container can
   run binaries of (32-bit x86 and x32 on x86_64, arm on aarch64).  */
static const char *const host_scmp_arches[] = {
#if defined(__x86_64__)
  "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
#elif defined(__aarch64__)
  "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM",
#elif defined(__i386__)
  "SCMP_ARCH_X86",
#elif defined(__arm__)
  "SCMP_ARCH_ARM",
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  "SCMP_ARCH_PPC64LE",
#elif defined(__s390x__)
  "SCMP_ARCH_S390X", "SCMP_ARCH_S390",
#elif defined(__riscv) && __riscv_xlen == 64
  "SCMP_ARCH_RISCV64",
#endif
  NULL,
};

struct default_arg
{
  unsigned int index;
  uint64_t value;       /* for MASKED_EQ: the mask */
  uint64_t value_two;   /* for MASKED_EQ: what the masked value must be */
  const char *op;
};

struct default_row
{
  const char *const *names;
  int errno_ret;                   /* 0: SCMP_ACT_ALLOW, else ERRNO(it) */
  const char *const *caps_all;     /* applies only with all of these */
  const char *const *caps_none;    /* ... and with none of these */
  const char *const *arches_any;   /* only on these GOARCHes */
  const char *const *arches_none;  /* never on these */
  struct default_arg arg;          /* used when op is set */
};

#define S(...) ((const char *const[]) { __VA_ARGS__, NULL })
#define ARG(i, v, v2, o) { .index = (i), .value = (v), .value_two = (v2), .op = (o) }

/* CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC
   | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET: clone may not make
   namespaces without CAP_SYS_ADMIN.  */
#define CLONE_NS_MASK 0x7E020000ULL

/* clone with one namespace flag set, refused with EPERM (docker's answer,
   since its default action is EPERM); its arguments are swapped on s390.  */
#define CLONE_NS_ROW(flag)                                                \
  { .names = S ("clone"), .errno_ret = EPERM,                            \
    .caps_none = S ("CAP_SYS_ADMIN"), .arches_none = S ("s390", "s390x"), \
    .arg = ARG (0, (flag), (flag), "SCMP_CMP_MASKED_EQ") }

static const struct default_row default_rows[] = {
  /* The ordinary syscalls, docker's list.  ptrace and process_vm_* are
     safe since Linux 4.8 (seccomp is checked again after a tracer changes
     a syscall); cove needs far newer kernels.  io_uring is left out, as
     docker and podman do now: its operations bypass seccomp.  */
  { .names = S (
      "_llseek", "_newselect", "accept", "accept4", "access", "adjtimex",
      "alarm", "bind", "brk", "cachestat", "capget", "capset", "chdir",
      "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
      "clock_getres", "clock_getres_time64", "clock_gettime",
      "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64",
      "close", "close_range", "connect", "copy_file_range", "creat", "dup",
      "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl",
      "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
      "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit",
      "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
      "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat",
      "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64",
      "fdatasync", "fgetxattr", "flistxattr", "flock", "fork",
      "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64",
      "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
      "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
      "futex_wake", "futimesat", "get_robust_list", "get_thread_area",
      "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32",
      "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
      "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp",
      "getpid", "getppid", "getpriority", "getrandom", "getresgid",
      "getresgid32", "getresuid", "getresuid32", "getrlimit", "getrusage",
      "getsid", "getsockname", "getsockopt", "gettid", "gettimeofday",
      "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init",
      "inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy",
      "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup",
      "io_submit", "ioctl", "ioprio_get", "ioprio_set", "ipc", "kill",
      "landlock_add_rule", "landlock_create_ruleset",
      "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link",
      "linkat", "listen", "listxattr", "llistxattr", "lremovexattr",
      "lseek", "lsetxattr", "lstat", "lstat64", "madvise",
      "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret",
      "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2",
      "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify",
      "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
      "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "mseal",
      "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
      "munlockall", "munmap", "name_to_handle_at", "nanosleep",
      "newfstatat", "open", "openat", "openat2", "pause", "pidfd_open",
      "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
      "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64",
      "preadv", "preadv2", "prlimit64", "process_mrelease",
      "process_vm_readv", "process_vm_writev", "pselect6",
      "pselect6_time64", "ptrace", "pwrite64", "pwritev", "pwritev2", "read",
      "readahead", "readdir", "readlink", "readlinkat", "readv", "recv",
      "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg",
      "remap_file_pages", "removexattr", "rename", "renameat", "renameat2",
      "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
      "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
      "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
      "sched_get_priority_max", "sched_get_priority_min",
      "sched_getaffinity", "sched_getattr", "sched_getparam",
      "sched_getscheduler", "sched_rr_get_interval",
      "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
      "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp",
      "select", "semctl", "semget", "semop", "semtimedop",
      "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg",
      "sendmsg", "sendto", "set_robust_list", "set_thread_area",
      "set_tid_address", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32",
      "setgid", "setgid32", "setgroups", "setgroups32", "setitimer",
      "setpgid", "setpriority", "setregid", "setregid32", "setresgid",
      "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
      "setrlimit", "setsid", "setsockopt", "setuid", "setuid32", "setxattr",
      "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack",
      "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall",
      "socketpair", "splice", "stat", "stat64", "statfs", "statfs64",
      "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs",
      "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
      "timer_getoverrun", "timer_gettime", "timer_gettime64",
      "timer_settime", "timer_settime64", "timerfd_create",
      "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
      "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
      "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime",
      "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice",
      "wait4", "waitid", "waitpid", "write", "writev") },

  /* Refused on purpose: the kernel keyring is not namespaced, the rest
     reaches the host (kexec, swap, modules without the cap, ...) or is a
     known attack surface (userfaultfd).  */
  { .names = S (
      "add_key", "bdflush", "kexec_file_load", "kexec_load", "keyctl",
      "migrate_pages", "move_pages", "nfsservctl", "nice", "oldfstat",
      "oldlstat", "oldolduname", "oldstat", "olduname", "pciconfig_iobase",
      "pciconfig_read", "pciconfig_write", "request_key", "sgetmask",
      "ssetmask", "swapoff", "swapon", "sysfs", "uselib",
      "userfaultfd", "ustat", "vm86", "vm86old"),
    .errno_ret = EPERM },

  /* socket: everything but AF_VSOCK (40), which reaches the host.  */
  { .names = S ("socket"), .arg = ARG (0, 40, 0, "SCMP_CMP_NE") },
  { .names = S ("socket"), .errno_ret = EPERM,
    .arg = ARG (0, 40, 0, "SCMP_CMP_EQ") },

  /* personality: only PER_LINUX, PER_LINUX32, UNAME26 (and the
     combinations) and the query 0xffffffff.  */
  { .names = S ("personality"), .arg = ARG (0, 0x0, 0, "SCMP_CMP_EQ") },
  { .names = S ("personality"), .arg = ARG (0, 0x8, 0, "SCMP_CMP_EQ") },
  { .names = S ("personality"), .arg = ARG (0, 0x20000, 0, "SCMP_CMP_EQ") },
  { .names = S ("personality"), .arg = ARG (0, 0x20008, 0, "SCMP_CMP_EQ") },
  { .names = S ("personality"),
    .arg = ARG (0, 0xffffffff, 0, "SCMP_CMP_EQ") },

  /* Architecture specific.  */
  { .names = S ("sync_file_range2", "swapcontext"),
    .arches_any = S ("ppc64le") },
  { .names = S ("arm_fadvise64_64", "arm_sync_file_range",
                "sync_file_range2", "breakpoint", "cacheflush", "set_tls"),
    .arches_any = S ("arm", "arm64") },
  { .names = S ("arch_prctl"), .arches_any = S ("amd64", "x32") },
  { .names = S ("modify_ldt"), .arches_any = S ("amd64", "x32", "x86") },
  { .names = S ("s390_pci_mmio_read", "s390_pci_mmio_write",
                "s390_runtime_instr"),
    .arches_any = S ("s390", "s390x") },
  { .names = S ("riscv_flush_icache"), .arches_any = S ("riscv64") },

  /* CAP_SYS_ADMIN.  pivot_root goes with it (podman allows it; docker
     never does), so that a runtime can run nested under --cap-add.  */
  { .names = S (
      "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount",
      "fsopen", "fspick", "lookup_dcookie", "mount", "mount_setattr",
      "move_mount", "open_tree", "perf_event_open", "pivot_root",
      "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns",
      "syslog", "umount", "umount2", "unshare"),
    .caps_all = S ("CAP_SYS_ADMIN") },
  /* Without it, EPERM; the new mount API (fsopen, ...) is left to the
     default ENOSYS, so that libmount falls back to mount(2) and reports
     its EPERM.  */
  { .names = S (
      "fanotify_init", "lookup_dcookie", "mount", "pivot_root", "quotactl",
      "quotactl_fd", "setdomainname", "sethostname", "setns", "umount",
      "umount2", "unshare"),
    .errno_ret = EPERM, .caps_none = S ("CAP_SYS_ADMIN") },
  /* clone3 cannot be filtered on its flags (they are in memory): ENOSYS
     makes glibc fall back to clone, which can.  */
  { .names = S ("clone3"), .errno_ret = ENOSYS,
    .caps_none = S ("CAP_SYS_ADMIN") },
  { .names = S ("clone"), .caps_none = S ("CAP_SYS_ADMIN"),
    .arches_none = S ("s390", "s390x"),
    .arg = ARG (0, CLONE_NS_MASK, 0, "SCMP_CMP_MASKED_EQ") },
  { .names = S ("clone"), .caps_none = S ("CAP_SYS_ADMIN"),
    .arches_any = S ("s390", "s390x"),
    .arg = ARG (1, CLONE_NS_MASK, 0, "SCMP_CMP_MASKED_EQ") },
  CLONE_NS_ROW (0x00020000ULL),  /* CLONE_NEWNS */
  CLONE_NS_ROW (0x02000000ULL),  /* CLONE_NEWCGROUP */
  CLONE_NS_ROW (0x04000000ULL),  /* CLONE_NEWUTS */
  CLONE_NS_ROW (0x08000000ULL),  /* CLONE_NEWIPC */
  CLONE_NS_ROW (0x10000000ULL),  /* CLONE_NEWUSER */
  CLONE_NS_ROW (0x20000000ULL),  /* CLONE_NEWPID */
  CLONE_NS_ROW (0x40000000ULL),  /* CLONE_NEWNET */

  { .names = S ("bpf"), .caps_all = S ("CAP_BPF") },
  { .names = S ("bpf"), .errno_ret = EPERM,
    .caps_none = S ("CAP_SYS_ADMIN", "CAP_BPF") },
  { .names = S ("perf_event_open"), .caps_all = S ("CAP_PERFMON") },
  { .names = S ("perf_event_open"), .errno_ret = EPERM,
    .caps_none = S ("CAP_SYS_ADMIN", "CAP_PERFMON") },
  { .names = S ("syslog"), .caps_all = S ("CAP_SYSLOG") },
  { .names = S ("syslog"), .errno_ret = EPERM,
    .caps_none = S ("CAP_SYS_ADMIN", "CAP_SYSLOG") },

  { .names = S ("open_by_handle_at"), .caps_all = S ("CAP_DAC_READ_SEARCH") },
  { .names = S ("open_by_handle_at"), .errno_ret = EPERM,
    .caps_none = S ("CAP_DAC_READ_SEARCH") },
  { .names = S ("reboot"), .caps_all = S ("CAP_SYS_BOOT") },
  { .names = S ("reboot"), .errno_ret = EPERM,
    .caps_none = S ("CAP_SYS_BOOT") },
  { .names = S ("chroot"), .caps_all = S ("CAP_SYS_CHROOT") },
  { .names = S ("chroot"), .errno_ret = EPERM,
    .caps_none = S ("CAP_SYS_CHROOT") },
  { .names = S ("delete_module", "init_module", "finit_module",
                "query_module"),
    .caps_all = S ("CAP_SYS_MODULE") },
  { .names = S ("delete_module", "init_module", "finit_module",
                "query_module"),
    .errno_ret = EPERM, .caps_none = S ("CAP_SYS_MODULE") },
  { .names = S ("acct"), .caps_all = S ("CAP_SYS_PACCT") },
  { .names = S ("acct"), .errno_ret = EPERM,
    .caps_none = S ("CAP_SYS_PACCT") },
  { .names = S ("kcmp", "pidfd_getfd", "process_madvise"),
    .caps_all = S ("CAP_SYS_PTRACE") },
  { .names = S ("kcmp", "pidfd_getfd", "process_madvise"),
    .errno_ret = EPERM, .caps_none = S ("CAP_SYS_PTRACE") },
  { .names = S ("iopl", "ioperm"), .caps_all = S ("CAP_SYS_RAWIO") },
  { .names = S ("iopl", "ioperm"), .errno_ret = EPERM,
    .caps_none = S ("CAP_SYS_RAWIO") },
  { .names = S ("settimeofday", "stime", "clock_settime",
                "clock_settime64"),
    .caps_all = S ("CAP_SYS_TIME") },
  { .names = S ("settimeofday", "stime", "clock_settime",
                "clock_settime64"),
    .errno_ret = EPERM, .caps_none = S ("CAP_SYS_TIME") },
  { .names = S ("vhangup"), .caps_all = S ("CAP_SYS_TTY_CONFIG") },
  { .names = S ("vhangup"), .errno_ret = EPERM,
    .caps_none = S ("CAP_SYS_TTY_CONFIG") },
  { .names = S ("get_mempolicy", "mbind", "set_mempolicy",
                "set_mempolicy_home_node"),
    .caps_all = S ("CAP_SYS_NICE") },
  { .names = S ("get_mempolicy", "mbind", "set_mempolicy",
                "set_mempolicy_home_node"),
    .errno_ret = EPERM, .caps_none = S ("CAP_SYS_NICE") },
};

static bool
strv_has (const char *const *v, const char *s)
{
  for (; v && *v; v++)
    if (strcmp (*v, s) == 0)
      return true;
  return false;
}

/* Docker's rule: a row applies when the container has all of its
   includes.caps and none of its excludes.caps, and the host architecture
   is in includes.arches (when given) and not in excludes.arches.  */
static bool
row_applies (const struct default_row *row, const char *const *caps)
{
  for (const char *const *c = row->caps_all; c && *c; c++)
    if (!strv_has (caps, *c))
      return false;
  for (const char *const *c = row->caps_none; c && *c; c++)
    if (strv_has (caps, *c))
      return false;
  if (row->arches_any && !strv_has (row->arches_any, HOST_GOARCH))
    return false;
  if (strv_has (row->arches_none, HOST_GOARCH))
    return false;
  return true;
}

static json_t *
strv_to_json (const char *const *v)
{
  json_t *a = json_array ();
  for (; v && *v; v++)
    json_array_append_new (a, json_string (*v));
  return a;
}

static json_t *
row_to_json (const struct default_row *row)
{
  json_t *r = json_object ();
  json_object_set_new (r, "names", strv_to_json (row->names));
  if (row->errno_ret == 0)
    json_object_set_new (r, "action", json_string ("SCMP_ACT_ALLOW"));
  else
    {
      json_object_set_new (r, "action", json_string ("SCMP_ACT_ERRNO"));
      json_object_set_new (r, "errnoRet", json_integer (row->errno_ret));
    }
  if (row->arg.op)
    {
      json_t *a = json_object ();
      json_object_set_new (a, "index", json_integer (row->arg.index));
      json_object_set_new (a, "value", json_integer ((json_int_t) row->arg.value));
      json_object_set_new (a, "valueTwo",
                           json_integer ((json_int_t) row->arg.value_two));
      json_object_set_new (a, "op", json_string (row->arg.op));
      json_t *args = json_array ();
      json_array_append_new (args, a);
      json_object_set_new (r, "args", args);
    }
  return r;
}

json_t *
cove_spec_seccomp_default (const char *const *caps, struct cove_error **err)
{
  json_t *syscalls = json_array ();
  for (size_t i = 0; i < sizeof default_rows / sizeof default_rows[0]; i++)
    if (row_applies (&default_rows[i], caps))
      json_array_append_new (syscalls, row_to_json (&default_rows[i]));

  json_t *profile = json_object ();
  json_object_set_new (profile, "defaultAction",
                       json_string ("SCMP_ACT_ERRNO"));
  json_object_set_new (profile, "defaultErrnoRet", json_integer (ENOSYS));
  json_object_set_new (profile, "architectures",
                       strv_to_json (host_scmp_arches));
  json_object_set_new (profile, "syscalls", syscalls);
  return profile;
}
