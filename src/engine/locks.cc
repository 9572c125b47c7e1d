// Locking a VM (lifecycle/lock.h): the engine owns the flag as it owns the rest of the VM, so a
// lock is committed with the VM's row and seen by the next action in the queue. What a lock
// stops is checked in handle_action (apply.cc).
#include <memory>
#include <string>

#include "engine/engine_impl.h"
#include "lifecycle/lock.h"

namespace corral::engine {

namespace lc = corral::lifecycle;

Result<store::Vm> Engine::lock(LockRequest request) {
  if (request.reason.size() > 255) {
    return fail(Error::invalid_argument("a lock's reason is at most 255 bytes"));
  }
  return impl_->submit(internal::LockCommand{std::move(request), {}});
}

void Engine::Impl::handle_lock(internal::LockCommand& command) {
  auto promise = std::make_shared<std::promise<Result<store::Vm>>>(std::move(command.reply));
  const LockRequest& request = command.request;
  if (!exists(request.vm)) {
    promise->set_value(fail(Error::not_found("no VM with id " + std::to_string(request.vm))));
    return;
  }
  const store::Vm& vm = current(request.vm);
  if (vm.record.state == lc::State::kDone) {
    promise->set_value(fail(Error{ErrorCode::kInvalidState,
                                  "VM " + std::to_string(vm.id) + " is DONE: nothing to lock",
                                  std::string(lc::state_name(vm.record.state)),
                                  {}}));
    return;
  }
  if (!request.lock && vm.locked_by == lc::LockedBy::kAdmin && !request.admin) {
    promise->set_value(fail(Error{ErrorCode::kForbidden,
                                  "VM " + std::to_string(vm.id) +
                                      " was locked by the cloud's admin: only the admin may "
                                      "unlock it",
                                  {},
                                  {}}));
    return;
  }
  store::Vm& changed = mutate(request.vm);
  changed.locked_by = !request.lock   ? lc::LockedBy::kNone
                      : request.admin ? lc::LockedBy::kAdmin
                                      : lc::LockedBy::kOwner;
  changed.lock_reason = request.lock ? request.reason : "";
  changed.updated_at = clock.now_ms();
  changed_vms.push_back(changed.id);  // the event stream says so once committed
  // Answered once the row is committed (or with the commit's error).
  host_replies.emplace_back([promise, vm = changed](const Error* error) {
    promise->set_value(error != nullptr ? Result<store::Vm>(fail(*error)) : vm);
  });
}

}  // namespace corral::engine
