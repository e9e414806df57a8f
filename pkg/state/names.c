/* cove state: the names index (names/<name> -> <id> symlinks) and the
   podman-style name generator.  */
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/state/internal.h"
#include "pkg/util/cleanup.h"
#include "pkg/util/xalloc.h"

static const char *const adjectives[] = {
  "admiring", "adoring", "affectionate", "agitated", "amazing", "angry",
  "awesome", "beautiful", "blissful", "bold", "boring", "brave", "busy",
  "charming", "clever", "compassionate", "competent", "confident", "cool",
  "cranky", "crazy", "dazzling", "determined", "distracted", "dreamy",
  "eager", "ecstatic", "elastic", "elated", "elegant", "eloquent", "epic",
  "exciting", "fervent", "festive", "flamboyant", "focused", "friendly",
  "frosty", "funny", "gallant", "gifted", "goofy", "gracious", "great",
  "happy", "hardcore", "heuristic", "hopeful", "hungry", "infallible",
  "inspiring", "intelligent", "interesting", "jolly", "jovial", "keen",
  "kind", "laughing", "loving", "lucid", "magical", "modest", "musing",
  "mystifying", "naughty", "nervous", "nice", "nifty", "nostalgic",
  "objective", "optimistic", "peaceful", "pedantic", "pensive", "practical",
  "priceless", "quirky", "quizzical", "recursing", "relaxed", "reverent",
  "romantic", "sad", "serene", "sharp", "silly", "sleepy", "stoic",
  "strange", "stupefied", "suspicious", "sweet", "tender", "thirsty",
  "trusting", "upbeat", "vibrant", "vigilant", "vigorous", "wizardly",
  "wonderful", "xenodochial", "youthful", "zealous", "zen",
};

static const char *const surnames[] = {
  "agnesi", "albattani", "allen", "almeida", "archimedes", "ardinghelli",
  "aryabhata", "austin", "babbage", "banach", "bardeen", "bartik", "bassi",
  "bell", "benz", "bhabha", "black", "blackwell", "bohr", "booth", "borg",
  "bose", "boyd", "brahmagupta", "brattain", "brown", "burnell", "cannon",
  "carson", "cartwright", "cerf", "chandrasekhar", "chatelet", "chebyshev",
  "clarke", "colden", "cori", "curie", "darwin", "davinci", "diffie",
  "dijkstra", "dirac", "driscoll", "dubinsky", "easley", "edison",
  "einstein", "elion", "engelbart", "euclid", "euler", "faraday", "fermat",
  "fermi", "feynman", "franklin", "gagarin", "galileo", "gates", "gauss",
  "goldberg", "goldstine", "goodall", "hamilton", "hawking", "heisenberg",
  "hellman", "hermann", "hodgkin", "hopper", "hoover", "hypatia", "jackson",
  "jennings", "johnson", "kalam", "kapitsa", "kare", "keldysh", "keller",
  "kepler", "khorana", "knuth", "kowalevski", "lalande", "lamarr",
  "lamport", "leakey", "lovelace", "lumiere", "mayer", "mccarthy",
  "mcclintock", "meitner", "mendel", "merkle", "minsky", "mirzakhani",
  "morse", "napier", "nash", "newton", "nobel", "noether", "noyce",
  "pascal", "pasteur", "perlman", "pike", "poincare", "ptolemy", "raman",
  "ramanujan", "ritchie", "rosalind", "saha", "shannon", "shaw", "shockley",
  "sinoussi", "snyder", "stallman", "swartz", "tesla", "thompson",
  "torvalds", "turing", "varahamihira", "villani", "volhard", "wescoff",
  "wiles", "williams", "wilson", "wozniak", "wright", "yalow", "yonath",
};

#define N_ELEM(a) (sizeof (a) / sizeof ((a)[0]))

char *
cove_state_name_generate (void)
{
  uint32_t r[2] = { 0, 0 };
  if (getrandom (r, sizeof r, 0) != (ssize_t) sizeof r)
    {
      /* getrandom of 8 bytes does not fail once the pool is ready; fall
         back on something that differs between concurrent processes.  */
      r[0] = (uint32_t) getpid ();
      r[1] = (uint32_t) getpid () * 2654435761u;
    }
  return xasprintf ("%s_%s", adjectives[r[0] % N_ELEM (adjectives)],
                    surnames[r[1] % N_ELEM (surnames)]);
}

char *
state_name_target (struct cove_state_store *s, const char *name)
{
  cleanup_free char *link = xasprintf ("names/%s", name);
  char buf[COVE_STATE_ID_LEN + 2];
  ssize_t n = readlinkat (s->dirfd, link, buf, sizeof buf);
  if (n < 0)
    return NULL;
  if (n != COVE_STATE_ID_LEN)
    {
      /* Not one of ours: a foreign or damaged entry; treat it as a target
         that matches no record so that check removes it.  */
      return xstrdup ("");
    }
  buf[n] = '\0';
  return xstrdup (buf);
}

bool
state_record_present (struct cove_state_store *s, const char *id)
{
  struct stat st;
  if (*id == '\0')
    return false;
  /* The staging dir first, then the record: create renames the one into
     the other, so looking in this order cannot miss a record that moves
     between the two looks.  */
  cleanup_free char *staged = xasprintf (NEW_PREFIX "%s", id);
  cleanup_close int fd = openat (s->dirfd, staged,
                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  /* Its creator holds flock while it lives; a free lock means it died,
     or has just renamed it into place (then ID/ exists now).  */
  if (fd >= 0 && flock (fd, LOCK_SH | LOCK_NB) < 0)
    return true;
  return fstatat (s->dirfd, id, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int
store_lock (struct cove_state_store *s, struct cove_error **err)
{
  int fd = openat (s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return cove_error_set (err, errno, "open `%s/lock`", s->root);
  if (flock (fd, LOCK_EX) < 0)
    {
      int e = errno;
      close (fd);
      return cove_error_set (err, e, "lock `%s/lock`", s->root);
    }
  return fd;
}

int
state_name_release (struct cove_state_store *s, const char *name,
                    const char *id, struct cove_error **err)
{
  cleanup_close int lock = store_lock (s, err);
  if (lock < 0)
    return -1;
  cleanup_free char *target = state_name_target (s, name);
  if (target == NULL || strcmp (target, id) != 0)
    return 0;
  cleanup_free char *link = xasprintf ("names/%s", name);
  if (unlinkat (s->dirfd, link, 0) < 0 && errno != ENOENT)
    return cove_error_set (err, errno, "remove name `%s`", name);
  return 0;
}
