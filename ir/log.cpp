#include "ir/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>

namespace fusejit {

namespace {

std::shared_ptr<spdlog::logger> make_logger() {
  // An application that registered "fusejit" itself keeps its own.
  if (std::shared_ptr<spdlog::logger> existing = spdlog::get("fusejit")) return existing;
  const char *env = std::getenv("FUSEJIT_LOG");
  spdlog::level::level_enum level = spdlog::level::warn;
  if (env && *env) level = spdlog::level::from_str(env);
  std::shared_ptr<spdlog::logger> made = spdlog::stderr_color_mt("fusejit");
  made->set_pattern("[fusejit %l] %v");
  made->set_level(level);
  return made;
}

}  // namespace

spdlog::logger &logger() {
  // Never destroyed: kernels may log while the process exits.
  static const auto *log = new std::shared_ptr<spdlog::logger>(make_logger());
  return **log;
}

}  // namespace fusejit
