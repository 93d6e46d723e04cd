#include "engine/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <mutex>

namespace fusejit {

void init_logging() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char *env = std::getenv("FUSEJIT_LOG");
    spdlog::level::level_enum level = spdlog::level::warn;
    if (env && *env) level = spdlog::level::from_str(env);
    // Logs go to stderr so that the tool's stdout stays machine-readable.
    auto logger = spdlog::stderr_color_mt("fusejit");
    logger->set_pattern("[fusejit %l] %v");
    logger->set_level(level);
    spdlog::set_default_logger(logger);
  });
}

}  // namespace fusejit
