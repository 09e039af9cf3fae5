// The five sections of gp_bench_durable, one file each (sequential.cpp, concurrent.cpp, wake.cpp,
// payload.cpp, scale.cpp); main.cpp runs those that --only selects.
#pragma once

namespace gpbench {

void section_sequential();  // 1. durable completes/s, sequential, synchronous FULL
void section_concurrent();  // 2. completes/s from 16 concurrent completers
void section_wake();        // 3. cross-process wake-up latency and idle CPU
void section_payload();     // 4. large payload complete + await: MiB/s and RSS
void section_scale();       // 5. per-operation time with few and many promises stored

}  // namespace gpbench
