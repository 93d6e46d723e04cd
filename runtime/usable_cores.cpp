#include "runtime/usable_cores.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace fusejit {

namespace {

std::optional<long long> parse_integer(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> limit_of(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return std::nullopt;
  return static_cast<double>(quota) / static_cast<double>(period);
}

std::optional<std::string> read_file(const std::string &path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The process's cgroup path for a v1 controller (`cpu`) or, with an empty
// name, the v2 hierarchy, from /proc/self/cgroup ("4:cpu,cpuacct:/a/b").
std::optional<std::string> cgroup_path(std::string_view controller) {
  std::optional<std::string> text = read_file("/proc/self/cgroup");
  if (!text) return std::nullopt;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string_view controllers = std::string_view(line).substr(a + 1, b - a - 1);
    bool match = controller.empty() ? controllers.empty() : false;
    for (size_t at = 0; !controller.empty() && at <= controllers.size();) {
      size_t comma = std::min(controllers.find(',', at), controllers.size());
      if (controllers.substr(at, comma - at) == controller) match = true;
      at = comma + 1;
    }
    if (match) return line.substr(b + 1);
  }
  return std::nullopt;
}

// The tightest quota on the way from the process's cgroup up to the root
// (a parent's quota limits its children too); inside a container the path
// may not exist under the mount, and then only the root's file counts.
std::optional<double> cgroup_limit() {
  std::optional<double> best;
  auto take = [&](std::optional<double> v) {
    if (v && (!best || *v < *best)) best = v;
  };
  auto walk = [&](const std::string &root, std::string path, const auto &read_limit) {
    for (;;) {
      take(read_limit(root + path));
      if (path.empty() || path == "/") break;
      path.resize(path.rfind('/'));
    }
  };
  if (std::optional<std::string> v2 = cgroup_path("")) {
    walk("/sys/fs/cgroup", *v2, [](const std::string &dir) -> std::optional<double> {
      std::optional<std::string> max = read_file(dir + "/cpu.max");
      return max ? cgroup2_cpu_limit(*max) : std::nullopt;
    });
  }
  if (std::optional<std::string> v1 = cgroup_path("cpu")) {
    walk("/sys/fs/cgroup/cpu", *v1, [](const std::string &dir) -> std::optional<double> {
      std::optional<std::string> quota = read_file(dir + "/cpu.cfs_quota_us");
      std::optional<std::string> period = read_file(dir + "/cpu.cfs_period_us");
      return quota && period ? cgroup1_cpu_limit(*quota, *period) : std::nullopt;
    });
  }
  return best;
}

int affinity_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

std::optional<double> cgroup2_cpu_limit(std::string_view cpu_max) {
  size_t space = cpu_max.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::optional<long long> quota = parse_integer(cpu_max.substr(0, space));
  std::optional<long long> period = parse_integer(cpu_max.substr(space + 1));
  if (!quota || !period) return std::nullopt;  // "max 100000": no quota
  return limit_of(*quota, *period);
}

std::optional<double> cgroup1_cpu_limit(std::string_view quota_us, std::string_view period_us) {
  std::optional<long long> quota = parse_integer(quota_us), period = parse_integer(period_us);
  if (!quota || !period) return std::nullopt;
  return limit_of(*quota, *period);
}

int cores_for_limit(double cpus) { return std::max(1, static_cast<int>(std::ceil(cpus - 1e-9))); }

int usable_cores() {
  int cores = affinity_cores();
  if (std::optional<double> limit = cgroup_limit())
    cores = std::min(cores, cores_for_limit(*limit));
  return cores;
}

}  // namespace fusejit
