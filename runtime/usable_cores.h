// How many cores this process may run on: the CPUs its affinity mask allows
// (taskset, a cpuset), capped by a cgroup CPU quota (a container given 1.5
// CPUs runs 2 threads, not one per host core). The default thread count
// starts from it, so a limited process does not start more threads than it
// can run at once.
#pragma once

#include <optional>
#include <string_view>

namespace fusejit {

// At least 1.
int usable_cores();

// The quota in CPUs from cgroup v2's `cpu.max` ("150000 100000" -> 1.5), or
// none for "max ..." or text that is not a quota.
std::optional<double> cgroup2_cpu_limit(std::string_view cpu_max);
// The same from cgroup v1's cpu.cfs_quota_us and cpu.cfs_period_us (a quota
// of -1 is none).
std::optional<double> cgroup1_cpu_limit(std::string_view quota_us, std::string_view period_us);

// A quota in CPUs as a thread count: rounded up (a 1.5-CPU quota keeps two
// threads busy half the time), at least 1.
int cores_for_limit(double cpus);

}  // namespace fusejit
