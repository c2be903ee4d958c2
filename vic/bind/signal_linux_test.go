package bind_test

import "syscall"

var interruptSignal = syscall.SIGINT
