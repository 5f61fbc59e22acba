package dev.moonbeam;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.moonbeam.config.LogConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogSetupTest {
    @TempDir
    Path dir;

    @AfterEach
    void restoreConsole() {
        LogSetup.consoleOnly(false);
    }

    @Test
    void writesOneLinePerEventWithTimeLevelThreadAndMessageToTheConfiguredFile() throws Exception {
        Path file = dir.resolve("nested/logs/moonbeam.log");
        LogSetup.apply(new LogConfig(file, System.Logger.Level.INFO), false);
        System.Logger logger = System.getLogger("dev.moonbeam.Example");
        Thread thread = new Thread(() -> {
            logger.log(System.Logger.Level.INFO, "hello from the test");
            logger.log(System.Logger.Level.DEBUG, "not at info level");
            logger.log(System.Logger.Level.WARNING, "a warning");
        }, "loop-7");
        thread.start();
        thread.join(5000);
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z INFO \\[loop-7\\] Example: hello from the test");
        assertThat(lines.get(1)).endsWith("WARN [loop-7] Example: a warning");
    }

    @Test
    void debugLevelIsHonoured() throws Exception {
        Path file = dir.resolve("debug.log");
        LogSetup.apply(new LogConfig(file, System.Logger.Level.DEBUG), false);
        System.getLogger("dev.moonbeam.Example").log(System.Logger.Level.DEBUG, "details");
        assertThat(Files.readString(file)).contains("DEBUG [main] Example: details");
    }

    @Test
    void anUnwritableLogFileIsAClearError() throws IOException {
        Path blocker = dir.resolve("blocker");
        Files.writeString(blocker, "a file where a directory should be");
        assertThatThrownBy(() -> LogSetup.apply(new LogConfig(blocker.resolve("x.log"), System.Logger.Level.INFO), false))
                .hasMessageStartingWith("cannot open log file " + blocker.resolve("x.log"));
    }
}
