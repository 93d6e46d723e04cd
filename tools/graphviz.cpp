#include "tools/graphviz.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "ir/error.h"

extern char **environ;

namespace fusejit::tool {

namespace {

// The first executable `dot` on PATH, or "" when there is none. Looked up
// here, not by the shell, so the message can say what is missing.
std::string find_dot() {
  const char *path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::filesystem::path candidate = std::filesystem::path(dir.empty() ? "." : dir) / "dot";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

// Writes all of `text` to `fd`, then closes it.
bool write_all(int fd, const std::string &text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return done == text.size();
}

}  // namespace

void render_png(const std::string &dot_text, const std::string &file) {
  std::string dot = find_dot();
  FUSEJIT_USER_CHECK(
      !dot.empty(), ValueError,
      "--png: Graphviz's `dot` is not on PATH; install graphviz (scripts/deps.sh does), "
      "or use --format dot and render it elsewhere");
  int fds[2];
  FUSEJIT_USER_CHECK(::pipe(fds) == 0, IOError,
                     "--png: cannot create a pipe: ", std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::string format = "-Tpng", out = "-o" + file;
  char *argv[] = {dot.data(), format.data(), out.data(), nullptr};
  pid_t pid;
  int spawned = posix_spawn(&pid, dot.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[0]);
  if (spawned != 0) {
    ::close(fds[1]);
    throw IOError("--png: cannot run " + dot + ": " + std::strerror(spawned));
  }
  // If dot exits early, a write must fail with EPIPE rather than kill us.
  std::signal(SIGPIPE, SIG_IGN);
  bool written = write_all(fds[1], dot_text);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  FUSEJIT_USER_CHECK(written && WIFEXITED(status) && WEXITSTATUS(status) == 0, IOError, "--png ",
                     file, ": ", dot, " failed (exit status ",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1, ")");
}

}  // namespace fusejit::tool
