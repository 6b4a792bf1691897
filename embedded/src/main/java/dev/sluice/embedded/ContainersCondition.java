package dev.sluice.embedded;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Under {@code -Pcontainers} where no Docker engine answers: every integration test is skipped, each
 * with the reason, before it sets anything up. Registered for the profile's integration tests only
 * (by service loading, which the profile turns on); does nothing without the profile.
 */
public final class ContainersCondition implements ExecutionCondition {

    private static Boolean docker;

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (!ContainerServers.wanted()) {
            return ConditionEvaluationResult.enabled("not under -Pcontainers");
        }
        return dockerAnswers() ? ConditionEvaluationResult.enabled("a Docker engine answers")
                : ConditionEvaluationResult.disabled(ContainerServers.NO_DOCKER);
    }

    private static synchronized boolean dockerAnswers() {
        if (docker == null) {
            docker = org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
        }
        return docker;
    }
}
