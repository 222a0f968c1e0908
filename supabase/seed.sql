-- Seed data for local stacks; applied once, right after the first migrations.
-- (Product seed data, such as the model registry, arrives with the modules that use it.)
select 1;
