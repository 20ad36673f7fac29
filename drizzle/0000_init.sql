CREATE TABLE "batches" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "batches_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"label" text,
	"run_count" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "blobs" (
	"hash" text PRIMARY KEY NOT NULL,
	"size" bigint NOT NULL,
	"media_type" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "comparisons" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "comparisons_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"name" text,
	"batch_id" uuid NOT NULL,
	"generator_ids" uuid[] NOT NULL,
	"evaluator_ids" uuid[] NOT NULL,
	"methods" text[] NOT NULL,
	"neuron_ids" uuid[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dataset_files" (
	"dataset_id" uuid NOT NULL,
	"path" text NOT NULL,
	"blob" text NOT NULL,
	CONSTRAINT "dataset_files_dataset_id_path_pk" PRIMARY KEY("dataset_id","path")
);
--> statement-breakpoint
CREATE TABLE "datasets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "datasets_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"content_hash" text NOT NULL,
	"image_count" integer NOT NULL,
	"neuron_count" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "images" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "images_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"run_id" uuid NOT NULL,
	"index" integer NOT NULL,
	"kind" text NOT NULL,
	"neuron_id" uuid,
	"seed" integer NOT NULL,
	"source_index" integer,
	"width" integer NOT NULL,
	"height" integer NOT NULL,
	"channels" integer NOT NULL,
	"png" text NOT NULL,
	"array" text NOT NULL,
	"space" text NOT NULL,
	"activation" real,
	"energy" real,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "model_files" (
	"model_id" uuid NOT NULL,
	"path" text NOT NULL,
	"blob" text NOT NULL,
	CONSTRAINT "model_files_model_id_path_pk" PRIMARY KEY("model_id","path")
);
--> statement-breakpoint
CREATE TABLE "model_neurons" (
	"model_id" uuid NOT NULL,
	"neuron_id" uuid NOT NULL,
	"column" integer NOT NULL,
	CONSTRAINT "model_neurons_model_id_neuron_id_pk" PRIMARY KEY("model_id","neuron_id")
);
--> statement-breakpoint
CREATE TABLE "models" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "models_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"source" text NOT NULL,
	"content_hash" text NOT NULL,
	"meta" jsonb NOT NULL,
	"input" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "neurons" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"session" text NOT NULL,
	"index" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "runs_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"batch_id" uuid NOT NULL,
	"method" text NOT NULL,
	"generator_id" uuid NOT NULL,
	"prior_id" uuid,
	"dataset_id" uuid,
	"neuron_id" uuid,
	"target_image" integer,
	"seed" integer NOT NULL,
	"settings" jsonb NOT NULL,
	"job_id" uuid NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"step" integer DEFAULT 0 NOT NULL,
	"steps" integer NOT NULL,
	"activation" real,
	"energy" real,
	"progress_at" timestamp with time zone,
	"error" jsonb,
	"device" text,
	"worker" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"seconds" double precision,
	"energy_trace" text,
	"activation_trace" text
);
--> statement-breakpoint
CREATE TABLE "scores" (
	"image_id" uuid NOT NULL,
	"evaluator_id" uuid NOT NULL,
	"value" double precision NOT NULL,
	CONSTRAINT "scores_image_id_evaluator_id_pk" PRIMARY KEY("image_id","evaluator_id")
);
--> statement-breakpoint
ALTER TABLE "comparisons" ADD CONSTRAINT "comparisons_batch_id_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dataset_files" ADD CONSTRAINT "dataset_files_dataset_id_datasets_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."datasets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dataset_files" ADD CONSTRAINT "dataset_files_blob_blobs_hash_fk" FOREIGN KEY ("blob") REFERENCES "public"."blobs"("hash") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_neuron_id_neurons_id_fk" FOREIGN KEY ("neuron_id") REFERENCES "public"."neurons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_png_blobs_hash_fk" FOREIGN KEY ("png") REFERENCES "public"."blobs"("hash") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_array_blobs_hash_fk" FOREIGN KEY ("array") REFERENCES "public"."blobs"("hash") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_files" ADD CONSTRAINT "model_files_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_files" ADD CONSTRAINT "model_files_blob_blobs_hash_fk" FOREIGN KEY ("blob") REFERENCES "public"."blobs"("hash") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_neurons" ADD CONSTRAINT "model_neurons_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_neurons" ADD CONSTRAINT "model_neurons_neuron_id_neurons_id_fk" FOREIGN KEY ("neuron_id") REFERENCES "public"."neurons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_batch_id_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_generator_id_models_id_fk" FOREIGN KEY ("generator_id") REFERENCES "public"."models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_prior_id_models_id_fk" FOREIGN KEY ("prior_id") REFERENCES "public"."models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_dataset_id_datasets_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."datasets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_neuron_id_neurons_id_fk" FOREIGN KEY ("neuron_id") REFERENCES "public"."neurons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_energy_trace_blobs_hash_fk" FOREIGN KEY ("energy_trace") REFERENCES "public"."blobs"("hash") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_activation_trace_blobs_hash_fk" FOREIGN KEY ("activation_trace") REFERENCES "public"."blobs"("hash") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scores" ADD CONSTRAINT "scores_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scores" ADD CONSTRAINT "scores_evaluator_id_models_id_fk" FOREIGN KEY ("evaluator_id") REFERENCES "public"."models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "batches_seq" ON "batches" USING btree ("seq");--> statement-breakpoint
CREATE UNIQUE INDEX "comparisons_seq" ON "comparisons" USING btree ("seq");--> statement-breakpoint
CREATE UNIQUE INDEX "datasets_content_hash" ON "datasets" USING btree ("content_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "datasets_seq" ON "datasets" USING btree ("seq");--> statement-breakpoint
CREATE UNIQUE INDEX "images_run_index" ON "images" USING btree ("run_id","index");--> statement-breakpoint
CREATE UNIQUE INDEX "images_seq" ON "images" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "images_neuron" ON "images" USING btree ("neuron_id");--> statement-breakpoint
CREATE INDEX "model_neurons_neuron" ON "model_neurons" USING btree ("neuron_id");--> statement-breakpoint
CREATE UNIQUE INDEX "models_content_hash" ON "models" USING btree ("content_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "models_seq" ON "models" USING btree ("seq");--> statement-breakpoint
CREATE UNIQUE INDEX "neurons_session_index" ON "neurons" USING btree ("session","index");--> statement-breakpoint
CREATE UNIQUE INDEX "runs_seq" ON "runs" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "runs_batch" ON "runs" USING btree ("batch_id","seq");--> statement-breakpoint
CREATE INDEX "runs_job" ON "runs" USING btree ("job_id");--> statement-breakpoint
CREATE INDEX "runs_status" ON "runs" USING btree ("status");--> statement-breakpoint
CREATE INDEX "runs_generator" ON "runs" USING btree ("generator_id");--> statement-breakpoint
CREATE INDEX "runs_neuron" ON "runs" USING btree ("neuron_id");--> statement-breakpoint
CREATE INDEX "scores_evaluator" ON "scores" USING btree ("evaluator_id");