# One image for every Sluice service; compose.yaml picks the service with its command
# (admin, ingest, stats, gate, worker). Build: docker build -t sluice .
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q -DskipTests -pl cli -am package \
 && mkdir -p /app/lib \
 && cp cli/target/sluice-cli-*.jar /app/lib/ \
 && tr ':' '\n' < cli/target/classpath.txt | xargs -I{} cp {} /app/lib/

FROM eclipse-temurin:17-jre
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/lib /app/lib
ENTRYPOINT ["java", "-cp", "/app/lib/*", "dev.sluice.cli.Sluice"]
CMD ["--help"]
