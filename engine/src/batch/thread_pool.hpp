// thread_pool.hpp - a fixed pool of worker threads that run one job at a time on every worker
// plus the calling thread. Jobs split their own work (an atomic chunk counter), so the pool
// itself takes a lock only to start and finish a job, never per item.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mintlane::batch {

class ThreadPool {
 public:
  // `threads` participants in total (the caller counts as one); 1 means no worker threads.
  explicit ThreadPool(unsigned threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned size() const noexcept { return static_cast<unsigned>(workers_.size()) + 1; }

  // Runs job(participant_index) on every participant (index 0 is the caller) and returns when
  // all have finished. The first exception thrown by any participant is rethrown here. Calls
  // from several threads are serialised.
  void run(const std::function<void(unsigned)>& job);

 private:
  void worker_loop(unsigned index);

  std::mutex run_mutex_;  // one job at a time
  std::mutex mutex_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(unsigned)>* job_ = nullptr;
  std::size_t generation_ = 0;
  unsigned pending_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
  std::vector<std::thread> workers_;
};

}  // namespace mintlane::batch
