package dev.moonbeam;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CommandLineTest {
    static Stream<Arguments> valid() {
        return Stream.of(
                Arguments.of(new String[] {}, new CommandLine(null, 0, null, CommandLine.Mode.RUN, false, false, false)),
                Arguments.of(new String[] {"--config", "x.json"}, new CommandLine(Path.of("x.json"), 0, null, CommandLine.Mode.RUN, false, false, false)),
                Arguments.of(new String[] {"--config=x.json", "--threads=4"}, new CommandLine(Path.of("x.json"), 4, null, CommandLine.Mode.RUN, false, false, false)),
                Arguments.of(new String[] {"--threads", "1", "--listen", "8443"}, new CommandLine(null, 1, "8443", CommandLine.Mode.RUN, false, false, false)),
                Arguments.of(new String[] {"--listen", "127.0.0.1:8443", "--check"}, new CommandLine(null, 0, "127.0.0.1:8443", CommandLine.Mode.CHECK, false, false, false)),
                Arguments.of(new String[] {"--version"}, new CommandLine(null, 0, null, CommandLine.Mode.VERSION, false, false, false)),
                Arguments.of(new String[] {"-h"}, new CommandLine(null, 0, null, CommandLine.Mode.HELP, false, false, false)),
                Arguments.of(new String[] {"--debug", "--demo"}, new CommandLine(null, 0, null, CommandLine.Mode.RUN, true, true, false)),
                Arguments.of(new String[] {"--takeover"}, new CommandLine(null, 0, null, CommandLine.Mode.RUN, false, false, true)));
    }

    @ParameterizedTest
    @MethodSource("valid")
    void parses(String[] args, CommandLine expected) throws Exception {
        assertThat(CommandLine.parse(args)).isEqualTo(expected);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of(new String[] {"--bogus"}, "unknown option --bogus"),
                Arguments.of(new String[] {"stray"}, "unexpected argument stray"),
                Arguments.of(new String[] {"--config"}, "--config needs a value"),
                Arguments.of(new String[] {"--config", "--check"}, "--config needs a value"),
                Arguments.of(new String[] {"--threads", "many"}, "--threads needs a whole number, got \"many\""),
                Arguments.of(new String[] {"--threads", "0"}, "--threads must be between 1 and 256, got 0"),
                Arguments.of(new String[] {"--threads=999"}, "--threads must be between 1 and 256, got 999"),
                Arguments.of(new String[] {"--check=yes"}, "--check takes no value"),
                Arguments.of(new String[] {"--listen="}, "--listen needs [HOST:]PORT"));
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void rejects(String[] args, String message) {
        assertThatThrownBy(() -> CommandLine.parse(args)).isInstanceOf(CommandLine.UsageException.class).hasMessage(message);
    }

    @Test
    void usageNamesEveryFlag() {
        assertThat(CommandLine.USAGE).contains("--config FILE", "--threads N", "--listen [HOST:]PORT", "--check", "--version", "--help");
    }
}
