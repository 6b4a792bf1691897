package dev.sluice.admin;

import java.util.Map;

/**
 * The environment the admin reads its settings from, when it is not the process's own: {@code sluice up}
 * gives its services one environment (Kafka client settings included), and registers it as a bean.
 */
public record ServiceEnvironment(Map<String, String> variables) {

    public ServiceEnvironment {
        variables = Map.copyOf(variables);
    }
}
