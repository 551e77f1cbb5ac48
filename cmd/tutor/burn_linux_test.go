package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// session reads a process's session id from /proc/PID/stat (field 6).
func session(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest) // state, ppid, pgrp, session, ...
	sid, err := strconv.Atoi(f[3])
	if err != nil {
		t.Fatalf("parse %q: %v", b, err)
	}
	return sid
}

// A load process must not share the tutor's session: Linux schedules a
// session as one group, so burners in it would take almost no CPU from the
// checks, which run in sessions of their own.
func TestBurnerOwnSession(t *testing.T) {
	cmd := burnerCmd(t.Context(), "/bin/sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start /bin/sleep: %v", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if got, ours := session(t, cmd.Process.Pid), session(t, os.Getpid()); got == ours {
		t.Fatalf("the load process is in the tutor's session %d; want a session of its own", ours)
	}
	if !strings.Contains(strings.Join(cmd.Env, "\n"), burnEnv+"=1") {
		t.Fatalf("the load process is not told to burn (%s=1 missing)", burnEnv)
	}
}
