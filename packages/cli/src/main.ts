/** The petrel command: not built yet (issue: the cluster). */
console.error("petrel: the cluster commands are not built yet");
process.exitCode = 1;
