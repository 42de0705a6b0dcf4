# One image for every service; SERVICE picks which one runs.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages ./packages
COPY services ./services
RUN npm ci --omit=dev --no-audit --no-fund && npm install --no-save tsx@4.23.15
ENV NODE_ENV=production
ARG SERVICE
ENV SERVICE=${SERVICE}
CMD ["sh", "-c", "exec npx tsx services/${SERVICE}/src/main.ts"]
