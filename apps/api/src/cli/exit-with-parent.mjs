// Preloaded into the dashboard's Next.js server and build (`node --import`): they exit when the
// excite serve that started them is gone, killed with SIGKILL included, instead of holding the
// port. Only the process excite started (EXCITE_SERVE_PID is its parent): Next's own workers
// inherit the preload and talk to their parent over IPC themselves.
if (process.send && process.env.EXCITE_SERVE_PID === String(process.ppid)) {
  process.on('disconnect', () => process.exit(0));
  // the channel must not keep a finished process alive (next build)
  process.channel?.unref();
}
